// Which comparison a Defender software row's version needs, and the comparisons behind one name.

import { compareDpkg } from './dpkg.js';
import { compareRpm } from './rpm.js';
import { compareVendorVersion } from './vendor.js';
import { compareWindowsBuild } from './windows-build.js';

export type VersionScheme = 'rpm' | 'dpkg' | 'windows_build' | 'vendor';

/** Defender's lower-case vendors whose Linux packages carry rpm EVRs or Debian versions. */
const RPM_VENDORS = new Set(['red_hat', 'centos', 'fedoraproject', 'suse', 'opensuse']);
const DPKG_VENDORS = new Set(['ubuntu', 'debian', 'canonical']);

/** Windows itself (windows_10, windows_11, windows_server_2022, windows_8.1), not apps such as windows_terminal. */
const WINDOWS_OS_PRODUCT = /^windows_(?:\d|server)/;

/** The scheme for Defender's `vendor/product` (`red_hat/openssl`, `microsoft/windows_11`, `google/chrome`). */
export function versionScheme(vendor: string, product: string): VersionScheme {
  if (RPM_VENDORS.has(vendor)) return 'rpm';
  if (DPKG_VENDORS.has(vendor)) return 'dpkg';
  if (vendor === 'microsoft' && WINDOWS_OS_PRODUCT.test(product)) return 'windows_build';
  return 'vendor';
}

/** -1, 0 or 1 by the scheme's order; null only for Windows builds of different lines or unreadable ones. */
export function compareVersions(scheme: VersionScheme, a: string, b: string): -1 | 0 | 1 | null {
  switch (scheme) {
    case 'rpm': return compareRpm(a, b);
    case 'dpkg': return compareDpkg(a, b);
    case 'windows_build': return compareWindowsBuild(a, b);
    case 'vendor': return compareVendorVersion(a, b);
  }
}

/**
 * Is the installed version at least the fixed one? null when the scheme cannot say (a Windows build
 * of another line than the fix's). For rpm, a fixed version without release covers all its
 * releases (see compareRpm).
 */
export function isAtLeast(scheme: VersionScheme, installed: string, fixed: string): boolean | null {
  const order = compareVersions(scheme, installed, fixed);
  return order === null ? null : order >= 0;
}
