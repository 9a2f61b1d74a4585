// Which remediation closes a finding, from its fix (src/content/knowledge.ts): the identity of the
// action an admin deploys, so that findings closed by the same action land in one remediation.
//   - Windows builds: the newest cumulative update of the device's build line, one per product and
//     line (its KB moves on with every Patch Tuesday; the remediation stays);
//   - other Microsoft KBs: the newest update that supersedes the fixing one;
//   - RHSA / USN: the package's newest advisory on the device's release (it includes earlier fixes);
//   - a fixed version, or only Defender's own hint: "update <product> to ≥ V", one per product;
//   - no known fix: a coverage gap per product and reason.

import type { FindingFix } from '../content/knowledge.js';
import { versionScheme, windowsBuildLine } from '../content/versions/index.js';
import type { RemediationKind } from '../store/schema.js';

export interface RemediationIdentity {
  key: string;
  kind: RemediationKind;
  product: string | null;
  reason: string | null;
  update: { id: string; title: string | null } | null;
}

export function remediationOf(vendor: string, name: string, version: string, fix: FindingFix): RemediationIdentity {
  const product = `${vendor}/${name}`;
  if (fix.status === 'no_known_fix') {
    const reason = fix.reason ?? 'not_covered';
    return { key: `gap:${product}:${reason}`, kind: 'coverage_gap', product, reason, update: null };
  }
  const update = fix.deployable ?? (fix.update && { id: fix.update.id, title: fix.update.title });
  if (fix.status === 'update' && fix.update && update) {
    if (fix.update.kind === 'kb' && versionScheme(vendor, name) === 'windows_build') {
      return { key: `windows:${name}:${windowsBuildLine(version) ?? version}`, kind: 'windows_update', product, reason: null, update };
    }
    if (fix.update.kind === 'kb') return { key: `kb:${update.id}`, kind: 'microsoft_update', product: null, reason: null, update };
    if (fix.update.kind === 'rhsa' || fix.update.kind === 'usn') return { key: `advisory:${update.id}`, kind: 'linux_advisory', product: null, reason: null, update };
  }
  // A fixed version, or an update only Defender names (not a KB or an advisory).
  return { key: `product:${product}`, kind: 'product_update', product, reason: null, update: fix.status === 'update' ? update : null };
}

/** `google/chrome` → `Google Chrome`. */
export function productName(product: string): string {
  const [vendor, name] = product.split('/');
  const words = (s: string) => s.split(/[_\s]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1));
  const nameWords = words(name ?? '');
  const vendorWords = words(vendor ?? '');
  // "microsoft/edge" → "Microsoft Edge", "google/chrome" → "Google Chrome"; a name that already starts with its vendor stays.
  return (nameWords[0]?.toLowerCase() === vendorWords[0]?.toLowerCase() ? nameWords : [...vendorWords, ...nameWords]).join(' ');
}
