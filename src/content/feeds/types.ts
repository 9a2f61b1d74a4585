// Normalised records of the vendors' feeds, as the patch knowledge base stores them. Parsers turn
// one downloaded document into these; they never fetch and never store.
//
// Conventions: timestamps are ISO-8601 UTC (`2024-03-12T07:00:00Z`), or null when the feed gave
// none or an unreadable one (reported in `skipped`). Ids keep the vendor's spelling: a KB is its
// digits (`5035849`), an advisory its full id (`RHSA-2024:1234`, `USN-6701-1`).

/** The feeds, by the name used in settings, import records and `POST /api/v1/content/imports`. */
export type FeedName = 'msrc' | 'redhat' | 'ubuntu' | 'nvd' | 'kev';

/** Something in a document the parser could not understand, kept for the import record. */
export interface Skipped {
  /** Where in the document, e.g. `CVE-2024-1234 remediation 3` (ordinals count from 1). */
  where: string;
  /** What was wrong, quoting the value. */
  reason: string;
}

// ── MSRC CVRF v3 ────────────────────────────────────────────────────────────────────────────

/** One monthly document listed by `GET {base}/updates`. */
export interface MsrcUpdateListing {
  /** `2024-Mar`: the path segment of `{base}/cvrf/{id}`. */
  id: string;
  alias: string | null;
  title: string | null;
  severity: string | null;
  initialReleaseDate: string | null;
  /** Changes when Microsoft revises the document: re-import then. */
  currentReleaseDate: string | null;
  cvrfUrl: string | null;
}

export interface MsrcProduct {
  productId: string;
  /** `Windows 11 Version 23H2 for x64-based Systems` */
  name: string;
  /** The product family branch it is listed under (`Windows`, `Browser`), when the tree has branches. */
  family: string | null;
}

/** CVRF remediation types; the JSON gives numbers, the XML gives these words. */
export type MsrcRemediationKind =
  | 'workaround' | 'mitigation' | 'vendor_fix' | 'none_available' | 'will_not_fix' | 'known_issue' | 'release_notes';

/** An update that `Supercedence` says this one replaces. */
export interface MsrcSupersededUpdate {
  /** The replaced KB (digits), or null for a legacy bulletin named without its KB. */
  kb: string | null;
  /** The legacy bulletin (`MS16-016`) the KB belongs to, when the text names one. */
  bulletin: string | null;
}

export interface MsrcRemediation {
  kind: MsrcRemediationKind;
  /** `Security Update`, `Monthly Rollup`, `Security Only`, `Security Hotpatch Update`, … */
  subType: string | null;
  /** The KB number (digits) when `Description` names one; null for products fixed by version. */
  kb: string | null;
  /** `Description.Value` as given: the KB, or text such as `Release Notes` or a package name. */
  description: string | null;
  url: string | null;
  productIds: string[];
  /** `10.0.22631.3296`, or a product version (`122.0.2365.92`) for products fixed by version. */
  fixedBuild: string | null;
  /** `Yes`, `No` or `Maybe`. */
  restartRequired: string | null;
  /** Parsed from `Supercedence`; empty on most cumulative updates. */
  supersedes: MsrcSupersededUpdate[];
  /** `Supercedence` as given, for the record. */
  supersedenceText: string | null;
}

/** The exploit status threat, `Publicly Disclosed:No;Exploited:Yes;Latest Software Release:…`. */
export interface MsrcExploitStatus {
  publiclyDisclosed: boolean | null;
  exploited: boolean | null;
  /** `Exploitation Detected`, `Exploitation More Likely`, `N/A`, … */
  latestSoftwareRelease: string | null;
  olderSoftwareRelease: string | null;
  /** `DOS`: `N/A` or `Permanent`. */
  denialOfService: string | null;
}

/** A value that applies to some product ids (severity, impact). */
export interface MsrcProductValue {
  value: string;
  productIds: string[];
}

export interface MsrcCvssScore {
  baseScore: number | null;
  temporalScore: number | null;
  vector: string | null;
  productIds: string[];
}

export interface MsrcVulnerability {
  cve: string;
  title: string | null;
  /** `ProductStatuses` of type 3 (known affected). */
  knownAffected: string[];
  /** `Critical`, `Important`, … per product (threat type 3). */
  severity: MsrcProductValue[];
  /** `Remote Code Execution`, … per product (threat type 0). */
  impact: MsrcProductValue[];
  exploitStatus: MsrcExploitStatus | null;
  cvss: MsrcCvssScore[];
  remediations: MsrcRemediation[];
}

/** A vendor fix for one product: "KB `kb` (build `fixedBuild`) fixes `cve` on `productId`". */
export interface MsrcFix {
  cve: string;
  productId: string;
  kb: string | null;
  fixedBuild: string | null;
  subType: string | null;
  url: string | null;
  restartRequired: string | null;
}

/** Supersedence is per product: on `productId`, KB `kb` replaces `supersededKb`. */
export interface MsrcSupersedence {
  productId: string;
  kb: string;
  supersededKb: string;
  /** The legacy bulletin the superseded KB shipped in, when named. */
  supersededBulletin: string | null;
}

export interface MsrcDocument {
  /** `2024-Mar` */
  id: string;
  title: string | null;
  initialReleaseDate: string | null;
  currentReleaseDate: string | null;
}

export interface MsrcUpdatesResult {
  updates: MsrcUpdateListing[];
  skipped: Skipped[];
}

export interface MsrcCvrfResult {
  document: MsrcDocument;
  products: MsrcProduct[];
  vulnerabilities: MsrcVulnerability[];
  /** Every vendor fix, one per (CVE, product, remediation). */
  fixes: MsrcFix[];
  /** Every supersedence edge of the document, once each. */
  supersedence: MsrcSupersedence[];
  skipped: Skipped[];
}

// ── Red Hat CSAF VEX ────────────────────────────────────────────────────────────────────────

/** A row of `changes.csv` or `deletions.csv`. */
export interface RedHatListingEntry {
  /** `2024/cve-2024-3094.json`, relative to the VEX base. */
  path: string;
  /** `CVE-2024-3094` */
  cve: string;
  /** When the document changed (or was deleted). */
  changed: string;
}

/** The RHEL release a product stream serves, derived from its product id and CPE. */
export interface RhelRelease {
  major: number;
  /**
   * For `MAIN` streams the minor release current when the fix shipped (it applies to that minor
   * and later ones); for EUS/AUS/TUS/E4S streams the one minor release the stream serves; null
   * for whole-major products (`red_hat_enterprise_linux_9`) and RHEL 10 streams without a minor.
   */
  minor: number | null;
  /** `MAIN`, `MAIN.EUS`, `EUS`, `AUS`, `TUS`, `E4S`, or null when the id does not say. */
  stream: string | null;
}

export interface RedHatStream {
  /** `AppStream-9.4.0.Z.MAIN.EUS`, `red_hat_enterprise_linux_9`, `8Base-satellite-6.14` */
  productId: string;
  name: string | null;
  /** `cpe:/a:redhat:enterprise_linux:9::appstream` */
  cpe: string | null;
  /** Null for layered products (Satellite, OpenShift, JBoss …). */
  rhel: RhelRelease | null;
}

export type RedHatFixState = 'fixed' | 'will_not_fix' | 'no_fix_yet' | 'not_affected' | 'under_investigation';

/** The state of one package in one product stream for one CVE. */
export interface RedHatPackageState {
  cve: string;
  state: RedHatFixState;
  /**
   * Red Hat's words for the state: `Will not fix` or `Out of support scope` (will_not_fix),
   * `Affected` or `Deferred` (no_fix_yet); null when the document gives none.
   */
  reason: string | null;
  stream: RedHatStream;
  /** The package name (binary or source rpm, container, …), from the component's purl. */
  package: string;
  /** The purl type: `rpm`, `rpmmod` (a module), `oci` (a container image), … */
  packageType: string;
  /** `nodejs:20` for packages shipped in a module stream. */
  module: string | null;
  /**
   * For fixed rpms the EVR, epoch omitted when 0 (`1:3.0.7-28.el9_4`, `7.76.1-26.el9_3.2`), as
   * Defender reports installed versions; for other fixed components the purl version.
   */
  fixedVersion: string | null;
  /** Fixed rpms as Red Hat names them, one per architecture: `curl-0:7.76.1-26.el9_3.2.x86_64`. */
  nevras: string[];
  /** The architectures of the fixed builds (`src`, `x86_64`, …); empty for unfixed components. */
  arches: string[];
  /** The advisory that ships the fix: `RHSA-2024:1234` (or RHBA/RHEA). */
  advisory: string | null;
  advisoryUrl: string | null;
  /** A workaround Red Hat gives for these components. */
  workaround: string | null;
  /** `Important`, `Moderate`, … for these components. */
  severity: string | null;
  cvssScore: number | null;
  cvssVector: string | null;
}

export interface RedHatVexDocument {
  cve: string;
  title: string | null;
  /** `Important`, `moderate` …: Red Hat's aggregate severity. */
  severity: string | null;
  initialReleaseDate: string | null;
  currentReleaseDate: string | null;
  /** True when Red Hat marked the document deleted: forget this CVE's states. */
  deleted: boolean;
}

export interface RedHatListingResult {
  entries: RedHatListingEntry[];
  skipped: Skipped[];
}

export interface RedHatVexResult {
  document: RedHatVexDocument;
  /** One per (stream, package, state and fixed version); the architectures of a build are merged. */
  states: RedHatPackageState[];
  skipped: Skipped[];
}

// ── Ubuntu OSV ──────────────────────────────────────────────────────────────────────────────

/** A row of an OSV `modified_id.csv` listing. */
export interface OsvModifiedEntry {
  /** `USN-7241-1`, without any `Ubuntu/` ecosystem prefix. */
  id: string;
  /** The ecosystem prefix of the bucket-wide listing (`Ubuntu`), null in an ecosystem's own one. */
  ecosystem: string | null;
  modified: string;
}

export type UbuntuAdvisoryKind = 'usn' | 'ubuntu_cve' | 'lsn' | 'other';

/** An Ubuntu OSV ecosystem: `Ubuntu:22.04:LTS`, `Ubuntu:Pro:16.04:LTS`, `Ubuntu:Pro:FIPS:20.04:LTS`. */
export interface UbuntuRelease {
  /** `22.04` */
  version: string;
  lts: boolean;
  /** Fixes in this ecosystem ship in Ubuntu Pro (ESM) pockets. */
  pro: boolean;
  /** The Pro service beyond ESM: `FIPS`, `FIPS-updates`, `Realtime:Kernel`, …; null for plain releases and ESM. */
  channel: string | null;
  ecosystem: string;
}

export interface UbuntuBinary {
  name: string;
  version: string;
}

/** What one advisory says about one source package in one release. */
export interface UbuntuPackageFix {
  /** `USN-6701-1`, `UBUNTU-CVE-2024-1234`, `LSN-0113-1` */
  advisory: string;
  kind: UbuntuAdvisoryKind;
  /** The CVEs this applies to in this release (from `cves_map` when given, else the advisory's). */
  cves: string[];
  release: UbuntuRelease;
  /** The source package. */
  package: string;
  /** The first fixed source version; null when the package is affected and no fix is released. */
  fixedVersion: string | null;
  /** The binary packages the fixed source builds, with their versions (Defender reports these). */
  binaries: UbuntuBinary[];
  /** The fix is only in Ubuntu Pro (ESM, FIPS, Livepatch …), not in the free archive. */
  proRequired: boolean;
  /** `No subscription required`, `Available with Ubuntu Pro: https://ubuntu.com/pro`, … */
  availability: string | null;
  /** The source versions the advisory lists as affected. */
  affectedVersions: string[];
}

export interface UbuntuOsvAdvisory {
  id: string;
  kind: UbuntuAdvisoryKind;
  summary: string | null;
  /** CVE ids, from `upstream` and `aliases` (`UBUNTU-CVE-2024-1234` read as `CVE-2024-1234`). */
  cves: string[];
  /** Other advisories named in `related` (the USNs of a CVE record). */
  related: string[];
  published: string | null;
  modified: string | null;
  /** Set when the entry is withdrawn: it fixes nothing and its knowledge should be dropped. */
  withdrawn: string | null;
}

export interface OsvModifiedResult {
  /** Newest first, as the listing orders them. */
  entries: OsvModifiedEntry[];
  skipped: Skipped[];
}

export interface UbuntuOsvResult {
  advisory: UbuntuOsvAdvisory;
  /** One per (release, source package); empty for a withdrawn entry. */
  fixes: UbuntuPackageFix[];
  skipped: Skipped[];
}

// ── NVD CVE API 2.0 ─────────────────────────────────────────────────────────────────────────

/** A CPE 2.3 name, unescaped. `null` is ANY (`*`), the empty string is NA (`-`). */
export interface Cpe23 {
  part: string | null;
  vendor: string | null;
  product: string | null;
  version: string | null;
  update: string | null;
  edition: string | null;
  language: string | null;
  swEdition: string | null;
  targetSw: string | null;
  targetHw: string | null;
  other: string | null;
}

export interface NvdPage {
  startIndex: number;
  resultsPerPage: number;
  totalResults: number;
  /** The number of CVEs this page holds. */
  returned: number;
  timestamp: string | null;
}

export interface NvdCvss {
  baseScore: number | null;
  vector: string | null;
  severity: string | null;
}

export interface NvdCve {
  cve: string;
  published: string | null;
  lastModified: string | null;
  /** `Analyzed`, `Modified`, `Awaiting Analysis`, `Received`, `Undergoing Analysis`, `Deferred`, `Rejected` */
  vulnStatus: string | null;
  description: string | null;
  cvssV31: NvdCvss | null;
  cvssV40: NvdCvss | null;
  /**
   * NVD has not analysed the CVE yet and lists no configurations: "fixed version not yet
   * known", which is not "no fix".
   */
  fixedVersionNotYetKnown: boolean;
}

/** One vulnerable CPE match of a CVE. */
export interface NvdVulnerableRange {
  criteria: string;
  matchCriteriaId: string | null;
  /** The version of `criteria` itself: set when the match names one exact version. */
  version: string | null;
  update: string | null;
  targetSw: string | null;
  startIncluding: string | null;
  startExcluding: string | null;
  /** The last vulnerable version: it names no fix. */
  endIncluding: string | null;
  endExcluding: string | null;
  /** The first fixed version of this range (`versionEndExcluding`), or null. */
  fixedVersion: string | null;
  /** Non-vulnerable CPEs the configuration requires alongside (the OS it runs on). */
  runningOn: string[];
}

/** What NVD says of one (CVE, vendor, product). */
export interface NvdProductRanges {
  cve: string;
  part: string;
  vendor: string;
  product: string;
  ranges: NvdVulnerableRange[];
  /** The distinct first fixed versions, one per vulnerable branch, in document order. */
  fixedVersions: string[];
  /** True when every range names its fix; false when some only name the last vulnerable version. */
  fixNamed: boolean;
}

/** The `lastModStartDate` / `lastModEndDate` pair of one incremental NVD query. */
export interface NvdModifiedWindow {
  lastModStartDate: string;
  lastModEndDate: string;
}

export interface NvdPageResult {
  page: NvdPage;
  cves: NvdCve[];
  /** One per (CVE, part, vendor, product) with vulnerable matches. */
  products: NvdProductRanges[];
  skipped: Skipped[];
}

/** Where to continue a paged NVD query. */
export interface NvdPaging {
  /** The `startIndex` of the next request, or null when this page was the last. */
  nextStartIndex: number | null;
  /** Requests still needed after this page. */
  pagesLeft: number;
}

// ── CISA KEV ────────────────────────────────────────────────────────────────────────────────

export interface KevCatalog {
  title: string | null;
  catalogVersion: string | null;
  dateReleased: string | null;
  /** The count the catalog states (compare with the entries read). */
  count: number | null;
}

export interface KevEntry {
  cve: string;
  vendorProject: string | null;
  product: string | null;
  vulnerabilityName: string | null;
  /** `2021-11-03` */
  dateAdded: string;
  shortDescription: string | null;
  requiredAction: string | null;
  /** The federal remediation deadline, `2021-11-17`. */
  dueDate: string | null;
  /** True for `Known`, false for `Unknown`, null when the field is missing or odd. */
  knownRansomwareCampaignUse: boolean | null;
  notes: string | null;
  cwes: string[];
}

export interface KevResult {
  catalog: KevCatalog;
  entries: KevEntry[];
  skipped: Skipped[];
}
