// Version comparison for the patch knowledge base: rpm, dpkg, Windows builds and vendor versions.

export { compareDpkg, compareDpkgVersions, formatDpkgVersion, parseDpkgVersion, type DpkgVersion } from './dpkg.js';
export type { ParseResult } from './parse-result.js';
export { compareRpm, formatEvr, parseEvr, parseNevra, rpmvercmp, type Evr, type Nevra } from './rpm.js';
export { compareVersions, isAtLeast, versionScheme, type VersionScheme } from './scheme.js';
export { compareVendorVersion } from './vendor.js';
export { compareWindowsBuild, parseWindowsBuild, windowsBuildLine, type WindowsBuild } from './windows-build.js';
