// The software world: operating systems and their lines, the components that ship releases (an OS
// build line, an RPM or Debian source package, a browser), their streams (Windows 11 23H2 and 24H2,
// RHEL 9.4 EUS and 9.5, Ubuntu 22.04 and 24.04), the Defender software names each installs
// (openssl and openssl-libs), their version schemes, and which vendor feed covers them.
//
// Versions are written relative to the world's start: slot j = 0 is the latest release at or before
// it and carries the version the examples in shared/reference/patch-content.md show (Chrome
// 131.0.6778.86, Windows 11 23H2 10.0.22631.4602, openssl 1:3.0.7-28.el9_4 and so on).

import { mod } from './calendar.js';

export type OsFamily = 'windows' | 'rhel' | 'ubuntu' | 'macos';
/** What Defender's RecommendedSecurityUpdateId names for the component. */
export type UpdateKind = 'kb' | 'rhsa' | 'usn' | 'none';
/** The vendor feed that describes the component's fixes. */
export type FeedKind = 'msrc' | 'redhat' | 'ubuntu' | 'nvd' | 'none';

export type ScheduleSpec =
  | { kind: 'periodic'; everySnapshots: number }
  | { kind: 'patchTuesday'; monthly: number; outOfBand: number }
  | { kind: 'quarterly' };

export interface VersionContext {
  /** Releases since the stream's first (its general availability), for streams that start inside the world. */
  sinceGa: number;
  /** A stable hash of a number, for jitter in build numbers. */
  hash: (x: number) => number;
}

export interface MsrcProduct {
  id: string;
  name: string;
  /** The Defender architecture it matches (x64, x86, arm64); undefined: any. */
  architecture?: string;
  /** Windows Server: the Server Core installation. */
  core?: boolean;
}

export interface StreamSpec {
  key: string;
  /** Months between its first release and the world's start; undefined: it existed long before. */
  gaMonthsBeforeStart?: number;
  version: (j: number, ctx: VersionContext) => string;
  /** Defender software names this stream installs (binary packages). */
  packages: readonly string[];
  msrc?: { products: readonly MsrcProduct[]; kbSlot: number; build?: string };
  redhat?: { productId: string; productName: string; cpe: string; rhelIndex: number };
  ubuntu?: { release: string; codename: string };
  nvd?: { criteria: string; startIncluding?: string };
}

export interface ComponentSpec {
  key: string;
  family: string;
  vendor: string;
  /** Operating systems it can be installed on; `clients`: not on servers. */
  osFamilies: readonly OsFamily[];
  clientsOnly?: boolean;
  /** Share of eligible devices that have it (ignored for OS components). */
  install: number;
  /** An operating system component: installed exactly on the devices that run it. */
  os?: boolean;
  schedule: ScheduleSpec;
  streams: readonly StreamSpec[];
  /** The stream a device uses, from its OS line and a device-specific number in [0, 1). */
  streamOf: (osLine: string, u: number) => number;
  update: UpdateKind;
  feed: FeedKind;
  /** Windows quality updates: each contains every earlier fix of its line. */
  cumulative?: boolean;
  /** Red Hat source RPM / Ubuntu source package, and whether it is Red Hat's epoch-bearing EVR. */
  source?: string;
  /** Ubuntu universe package: fixes only in Ubuntu Pro (ESM Apps). */
  ubuntuPro?: boolean;
  /** A later member of its family fixes a CVE up to this many days after the family's fix. */
  lagDays?: number;
  diskPath?: string;
  registryPath?: string;
  endOfSupport?: boolean;
}

export interface FamilySpec {
  key: string;
  /** For titles, KEV's vendorProject and product. */
  vendorProject: string;
  product: string;
  /** Its components; the first one's schedule sets when its CVEs are fixed. */
  components: readonly string[];
  /** Average CVEs a release fixes at the default patch cadence. */
  cvesPerEvent: number;
  /** Share of its CVEs a component fixes only some releases later (the feed says "will not fix" or "deferred" meanwhile). */
  delayed?: number;
  /** Share of its CVEs that affect each line; the rest spare it (one line is always affected). */
  lineShare: number;
}

// ---- version helpers -------------------------------------------------------------------------

const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** Month offset and out-of-band flag of a Patch Tuesday slot. */
const monthOf = (j: number) => Math.floor(j / 2);

/** A Windows build `10.0.<build>.<UBR>`: the UBR grows by about `step` a month, out-of-band releases in between. */
function windowsBuild(build: string, anchorUbr: number, step: number) {
  return (j: number, ctx: VersionContext) => {
    const month = monthOf(j);
    const third = Math.floor(step / 3);
    const ubr = anchorUbr + step * month + (ctx.hash(month) % third) + ((j & 1) ? third + (ctx.hash(month + 7777) % third) : 0);
    return `10.0.${build}.${ubr}`;
  };
}

function chromiumVersion(majorAt0: number, buildAt0: number, buildStep: number, patches: readonly number[], patchAt0: number) {
  return (j: number, ctx: VersionContext) => {
    const slot = j + patchAt0;
    const major = Math.floor(slot / 4);
    const jitter = major === 0 ? 0 : ctx.hash(major) % 9;
    return `${majorAt0 + major}.0.${buildAt0 + buildStep * major}.${patches[mod(slot, 4)] + jitter}`;
  };
}

// ---- operating systems -----------------------------------------------------------------------

export interface OsLineSpec {
  key: string;
  share: number;
  /** Share of devices on this line that move to `movesTo` during the emulated time. */
  moves?: number;
  movesTo?: string;
  osVersion: (osComponentVersion: string | undefined) => string;
}

export interface OsSpec {
  key: string;
  family: OsFamily;
  osPlatform: string;
  /** The OS component (Windows build lines, macOS); Linux OS CVEs live in packages. */
  component?: string;
  lines: readonly OsLineSpec[];
  share: number;
  architectures: readonly (readonly [string, number])[];
  server: boolean;
}

const own = (v: string | undefined) => v ?? '';

export const OPERATING_SYSTEMS: readonly OsSpec[] = [
  {
    key: 'windows11', family: 'windows', osPlatform: 'Windows11', component: 'windows_11', share: 37, server: false,
    architectures: [['x64', 94], ['arm64', 6]],
    lines: [
      { key: 'win11-23H2', share: 55, moves: 0.3, movesTo: 'win11-24H2', osVersion: own },
      { key: 'win11-24H2', share: 45, osVersion: own },
    ],
  },
  {
    key: 'windows10', family: 'windows', osPlatform: 'Windows10', component: 'windows_10', share: 24, server: false,
    architectures: [['x64', 97], ['x86', 3]], lines: [{ key: 'win10-22H2', share: 1, osVersion: own }],
  },
  {
    key: 'server2022', family: 'windows', osPlatform: 'WindowsServer2022', component: 'windows_server_2022', share: 7, server: true,
    architectures: [['x64', 1]], lines: [{ key: 'srv2022', share: 1, osVersion: own }],
  },
  {
    key: 'server2019', family: 'windows', osPlatform: 'WindowsServer2019', component: 'windows_server_2019', share: 4, server: true,
    architectures: [['x64', 1]], lines: [{ key: 'srv2019', share: 1, osVersion: own }],
  },
  {
    key: 'server2025', family: 'windows', osPlatform: 'WindowsServer2025', component: 'windows_server_2025', share: 2, server: true,
    architectures: [['x64', 1]], lines: [{ key: 'srv2025', share: 1, osVersion: own }],
  },
  {
    key: 'rhel9', family: 'rhel', osPlatform: 'Linux', share: 9, server: true, architectures: [['x64', 9], ['arm64', 1]],
    lines: [
      { key: 'rhel-9.4', share: 60, moves: 0.5, movesTo: 'rhel-9.5', osVersion: () => 'enterprise_linux_9.4' },
      { key: 'rhel-9.5', share: 40, osVersion: () => 'enterprise_linux_9.5' },
    ],
  },
  {
    key: 'ubuntu', family: 'ubuntu', osPlatform: 'Linux', share: 7, server: true, architectures: [['x64', 1]],
    lines: [
      { key: 'ubuntu-jammy', share: 60, osVersion: () => 'ubuntu_linux_22.04' },
      { key: 'ubuntu-noble', share: 40, osVersion: () => 'ubuntu_linux_24.04' },
    ],
  },
  {
    key: 'macos', family: 'macos', osPlatform: 'macOS', component: 'macos', share: 10, server: false, architectures: [['arm64', 8], ['x64', 2]],
    lines: [
      { key: 'macos-15', share: 65, osVersion: own },
      { key: 'macos-14', share: 35, moves: 0.4, movesTo: 'macos-15', osVersion: own },
    ],
  },
];

// ---- components ------------------------------------------------------------------------------

const single = () => 0;
const byLine = (lines: readonly string[]) => (osLine: string) => Math.max(0, lines.indexOf(osLine));
const RHEL_LINES = ['rhel-9.4', 'rhel-9.5'];
const UBUNTU_LINES = ['ubuntu-jammy', 'ubuntu-noble'];

const windowsArch = (line: string, ids: readonly [string, string, string?]): MsrcProduct[] => [
  { id: ids[0], name: `${line} for x64-based Systems`, architecture: 'x64' },
  { id: ids[1], name: `${line} for ARM64-based Systems`, architecture: 'arm64' },
  ...(ids[2] ? [{ id: ids[2], name: `${line} for 32-bit Systems`, architecture: 'x86' }] : []),
];
const windowsServer = (name: string, ids: readonly [string, string]): MsrcProduct[] => [
  { id: ids[0], name },
  { id: ids[1], name: `${name} (Server Core installation)`, core: true },
];

const RHEL_STREAMS = {
  eus94: { productId: 'BaseOS-9.4.0.Z.EUS', productName: 'Red Hat Enterprise Linux BaseOS EUS (v.9.4)', cpe: 'cpe:/o:redhat:rhel_eus:9.4::baseos', rhelIndex: 0 },
  main95: { productId: 'BaseOS-9.5.0.Z.MAIN', productName: 'Red Hat Enterprise Linux BaseOS (v. 9)', cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos', rhelIndex: 1 },
};
const JAMMY = { release: '22.04', codename: 'jammy' };
const NOBLE = { release: '24.04', codename: 'noble' };

/** An RPM package with a 9.4 EUS and a 9.5 stream; `release(n)` is the release field at the nth release. */
function rhel(key: string, family: string, source: string, packages: readonly string[], everySnapshots: number,
  eus: (j: number) => string, main: (n: number) => string, install = 1): ComponentSpec {
  return {
    key: `rhel:${key}`, family, vendor: 'red_hat', osFamilies: ['rhel'], install, source,
    schedule: { kind: 'periodic', everySnapshots }, update: 'rhsa', feed: 'redhat', streamOf: byLine(RHEL_LINES),
    streams: [
      { key: '9.4', gaMonthsBeforeStart: 8, version: (_j, c) => eus(c.sinceGa), packages, redhat: { ...RHEL_STREAMS.eus94 } },
      { key: '9.5', gaMonthsBeforeStart: 1, version: (_j, c) => main(c.sinceGa), packages, redhat: { ...RHEL_STREAMS.main95 } },
    ],
  };
}

/** A Debian source package on 22.04 and 24.04, with the binary packages Defender reports on each. */
function ubuntu(key: string, family: string, everySnapshots: number, jammy: [(n: number) => string, readonly string[]],
  noble: [(n: number) => string, readonly string[]], extra: Partial<ComponentSpec> = {}): ComponentSpec {
  return {
    key: `ubuntu:${key}`, family, vendor: 'ubuntu', osFamilies: ['ubuntu'], install: 1, source: key,
    schedule: { kind: 'periodic', everySnapshots }, update: 'usn', feed: 'ubuntu', streamOf: byLine(UBUNTU_LINES), lagDays: 6,
    streams: [
      { key: 'jammy', gaMonthsBeforeStart: 32, version: (_j, c) => jammy[0](c.sinceGa), packages: jammy[1], ubuntu: JAMMY },
      { key: 'noble', gaMonthsBeforeStart: 8, version: (_j, c) => noble[0](c.sinceGa), packages: noble[1], ubuntu: NOBLE },
    ],
    ...extra,
  };
}

const desktop: OsFamily[] = ['windows', 'macos'];

export const COMPONENTS: readonly ComponentSpec[] = [
  // Windows build lines: a cumulative update every Patch Tuesday, out-of-band ones now and then.
  {
    key: 'windows_10', family: 'windows', vendor: 'microsoft', os: true, osFamilies: ['windows'], install: 1, cumulative: true,
    schedule: { kind: 'patchTuesday', monthly: 1, outOfBand: 0.15 }, update: 'kb', feed: 'msrc', streamOf: single,
    streams: [{ key: '22H2', gaMonthsBeforeStart: 26, version: windowsBuild('19045', 5247, 120), packages: ['windows_10'],
      msrc: { products: windowsArch('Windows 10 Version 22H2', ['12097', '12099', '12098']), kbSlot: 0, build: '19045' } }],
  },
  {
    key: 'windows_11', family: 'windows', vendor: 'microsoft', os: true, osFamilies: ['windows'], install: 1, cumulative: true,
    schedule: { kind: 'patchTuesday', monthly: 1, outOfBand: 0.15 }, update: 'kb', feed: 'msrc', streamOf: byLine(['win11-23H2', 'win11-24H2']),
    streams: [
      { key: '23H2', gaMonthsBeforeStart: 14, version: windowsBuild('22631', 4602, 125), packages: ['windows_11'],
        msrc: { products: windowsArch('Windows 11 Version 23H2', ['12243', '12242']), kbSlot: 1, build: '22631' } },
      { key: '24H2', gaMonthsBeforeStart: 2, version: windowsBuild('26100', 2605, 150), packages: ['windows_11'],
        msrc: { products: windowsArch('Windows 11 Version 24H2', ['12390', '12389']), kbSlot: 2, build: '26100' } },
    ],
  },
  {
    key: 'windows_server_2019', family: 'windows', vendor: 'microsoft', os: true, osFamilies: ['windows'], install: 1, cumulative: true,
    schedule: { kind: 'patchTuesday', monthly: 1, outOfBand: 0.15 }, update: 'kb', feed: 'msrc', streamOf: single,
    streams: [{ key: '1809', version: windowsBuild('17763', 6659, 110), packages: ['windows_server_2019'],
      msrc: { products: windowsServer('Windows Server 2019', ['11571', '11572']), kbSlot: 3, build: '17763' } }],
  },
  {
    key: 'windows_server_2022', family: 'windows', vendor: 'microsoft', os: true, osFamilies: ['windows'], install: 1, cumulative: true,
    schedule: { kind: 'patchTuesday', monthly: 1, outOfBand: 0.15 }, update: 'kb', feed: 'msrc', streamOf: single,
    streams: [{ key: '21H2', version: windowsBuild('20348', 2966, 60), packages: ['windows_server_2022'],
      msrc: { products: windowsServer('Windows Server 2022', ['11923', '11924']), kbSlot: 4, build: '20348' } }],
  },
  {
    key: 'windows_server_2025', family: 'windows', vendor: 'microsoft', os: true, osFamilies: ['windows'], install: 1, cumulative: true,
    schedule: { kind: 'patchTuesday', monthly: 1, outOfBand: 0.15 }, update: 'kb', feed: 'msrc', streamOf: single,
    // Same build number (and UBRs) as Windows 11 24H2: a different product with its own updates.
    streams: [{ key: '24H2', gaMonthsBeforeStart: 1, version: windowsBuild('26100', 2605, 150), packages: ['windows_server_2025'],
      msrc: { products: windowsServer('Windows Server 2025', ['12436', '12437']), kbSlot: 5, build: '26100' } }],
  },
  // .NET Framework and Office (MSI): not cumulative across branches; each update names the ones it supersedes.
  {
    key: 'dotnet', family: 'dotnet', vendor: 'microsoft', osFamilies: ['windows'], install: 0.9,
    schedule: { kind: 'patchTuesday', monthly: 0.45, outOfBand: 0 }, update: 'kb', feed: 'msrc',
    streamOf: (line, u) => (line === 'win10-22H2' ? (u < 0.7 ? 0 : 1) : line === 'srv2019' ? 0 : line === 'srv2022' ? (u < 0.6 ? 0 : 1) : 1),
    streams: [
      { key: '4.8', version: (j) => `4.8.${4785 + 13 * monthOf(j)}.0`, packages: ['.net_framework'],
        msrc: { products: [{ id: '10856', name: 'Microsoft .NET Framework 4.8' }], kbSlot: 6 } },
      { key: '4.8.1', gaMonthsBeforeStart: 32, version: (j) => `4.8.${9290 + 17 * monthOf(j)}.0`, packages: ['.net_framework'],
        msrc: { products: [{ id: '12056', name: 'Microsoft .NET Framework 4.8.1' }], kbSlot: 7 } },
    ],
  },
  {
    key: 'office', family: 'office', vendor: 'microsoft', osFamilies: ['windows'], clientsOnly: true, install: 0.6,
    schedule: { kind: 'patchTuesday', monthly: 0.8, outOfBand: 0 }, update: 'kb', feed: 'msrc', streamOf: single,
    diskPath: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
    streams: [{ key: '2016', version: (j) => `16.0.${5478 + 9 * monthOf(j)}.1000`, packages: ['office'],
      msrc: { products: [{ id: '10753', name: 'Microsoft Office 2016 (64-bit edition)', architecture: 'x64' }, { id: '10754', name: 'Microsoft Office 2016 (32-bit edition)' }], kbSlot: 8 } }],
  },
  // Chromium: Chrome ships a fix first, Edge a few days later (Microsoft documents Edge's in MSRC, by version).
  {
    key: 'chrome', family: 'chromium', vendor: 'google', osFamilies: desktop, clientsOnly: true, install: 0.72,
    schedule: { kind: 'periodic', everySnapshots: 28 }, update: 'none', feed: 'nvd', streamOf: single,
    diskPath: 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    registryPath: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Google Chrome',
    streams: [{ key: 'stable', version: chromiumVersion(131, 6778, 56, [69, 86, 108, 139], 1), packages: ['chrome'],
      nvd: { criteria: 'cpe:2.3:a:google:chrome:*:*:*:*:*:*:*:*' } }],
  },
  {
    key: 'edge', family: 'chromium', vendor: 'microsoft', osFamilies: desktop, install: 0.95, lagDays: 1,
    schedule: { kind: 'periodic', everySnapshots: 28 }, update: 'none', feed: 'msrc', streamOf: single,
    diskPath: 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
    streams: [{ key: 'stable', version: chromiumVersion(131, 2903, 54, [70, 86, 112, 146], 1), packages: ['edge_chromium-based'],
      msrc: { products: [{ id: '11655', name: 'Microsoft Edge (Chromium-based)' }], kbSlot: -1 } }],
  },
  {
    key: 'firefox', family: 'firefox', vendor: 'mozilla', osFamilies: desktop, clientsOnly: true, install: 0.22,
    schedule: { kind: 'periodic', everySnapshots: 56 }, update: 'none', feed: 'nvd', streamOf: single,
    diskPath: 'C:\\Program Files\\Mozilla Firefox\\firefox.exe',
    streams: [{ key: 'release', packages: ['firefox'], nvd: { criteria: 'cpe:2.3:a:mozilla:firefox:*:*:*:*:*:*:*:*' },
      version: (j) => { const slot = j + 1; const major = 133 + Math.floor(slot / 2); return mod(slot, 2) ? `${major}.0.3` : `${major}.0`; } }],
  },
  {
    key: 'acrobat_reader', family: 'acrobat', vendor: 'adobe', osFamilies: desktop, clientsOnly: true, install: 0.35,
    schedule: { kind: 'patchTuesday', monthly: 0.7, outOfBand: 0 }, update: 'none', feed: 'nvd', streamOf: single,
    diskPath: 'C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe',
    streams: [{ key: 'continuous', packages: ['acrobat_reader_dc'], nvd: { criteria: 'cpe:2.3:a:adobe:acrobat_reader_dc:*:*:*:*:continuous:*:*:*' },
      version: (j) => { const u = monthOf(j) + 8; return `${24 + Math.floor(u / 10)}.${pad(1 + Math.floor(mod(u, 10) / 2), 3)}.${20320 + 80 * monthOf(j)}`; } }],
  },
  {
    key: 'jre', family: 'java8', vendor: 'oracle', osFamilies: ['windows', 'rhel', 'ubuntu'], install: 0.12, endOfSupport: true,
    schedule: { kind: 'quarterly' }, update: 'none', feed: 'nvd', streamOf: single,
    streams: [{ key: '8', packages: ['jre'], nvd: { criteria: 'cpe:2.3:a:oracle:jre:*:*:*:*:*:*:*:*' }, version: (j) => `8u${431 + 10 * j}` }],
  },
  {
    key: 'jdk', family: 'java17', vendor: 'oracle', osFamilies: ['windows', 'rhel', 'ubuntu'], install: 0.08,
    schedule: { kind: 'quarterly' }, update: 'none', feed: 'nvd', streamOf: single,
    streams: [{ key: '17', gaMonthsBeforeStart: 38, packages: ['jdk'], nvd: { criteria: 'cpe:2.3:a:oracle:jdk:*:*:*:*:*:*:*:*', startIncluding: '17.0.0' },
      version: (_j, c) => `17.0.${c.sinceGa}` }],
  },
  {
    key: '7-zip', family: '7-zip', vendor: '7-zip', osFamilies: ['windows'], install: 0.2,
    schedule: { kind: 'periodic', everySnapshots: 480 }, update: 'none', feed: 'nvd', streamOf: single,
    streams: [{ key: 'stable', packages: ['7-zip'], nvd: { criteria: 'cpe:2.3:a:7-zip:7-zip:*:*:*:*:*:*:*:*' },
      version: (j) => `${24 + Math.floor((j + 2) / 3)}.${pad([1, 5, 9][mod(j + 2, 3)], 2)}` }],
  },
  {
    key: 'zoom', family: 'zoom', vendor: 'zoom', osFamilies: desktop, clientsOnly: true, install: 0.3,
    schedule: { kind: 'periodic', everySnapshots: 120 }, update: 'none', feed: 'nvd', streamOf: single,
    streams: [{ key: 'stable', packages: ['zoom'], nvd: { criteria: 'cpe:2.3:a:zoom:zoom:*:*:*:*:*:*:*:*' },
      version: (j, c) => { const idx = 63 + Math.floor(j / 3); return `${Math.floor(idx / 10)}.${mod(idx, 10)}.${[0, 5, 10][mod(j, 3)]}.${52884 + 1000 * j + (j === 0 ? 0 : c.hash(j) % 500)}`; } }],
  },
  {
    key: 'notepad++', family: 'notepad++', vendor: 'notepad-plus-plus', osFamilies: ['windows'], install: 0.15,
    schedule: { kind: 'periodic', everySnapshots: 240 }, update: 'none', feed: 'nvd', streamOf: single,
    // CPE escapes the plus signs: Defender's name and NVD's differ here.
    streams: [{ key: 'stable', packages: ['notepad++'], nvd: { criteria: 'cpe:2.3:a:notepad-plus-plus:notepad\\+\\+:*:*:*:*:*:*:*:*' },
      version: (j) => { const idx = 874 + j; return `${Math.floor(idx / 100)}.${mod(Math.floor(idx / 10), 10)}.${mod(idx, 10)}`; } }],
  },
  {
    // VMware's advisories are in none of the emulated feeds: its findings have no known fix.
    key: 'vmware_tools', family: 'vmware-tools', vendor: 'vmware', osFamilies: ['windows', 'rhel', 'ubuntu'], install: 0.18,
    schedule: { kind: 'periodic', everySnapshots: 360 }, update: 'none', feed: 'none', streamOf: single,
    streams: [{ key: 'stable', packages: ['tools'], version: (j) => { const idx = 125 + j; return `${Math.floor(idx / 10)}.${mod(idx, 10)}.0`; } }],
  },
  {
    key: 'python', family: 'python', vendor: 'python', osFamilies: ['windows', 'macos'], install: 0.12,
    schedule: { kind: 'periodic', everySnapshots: 240 }, update: 'none', feed: 'nvd', streamOf: single,
    streams: [{ key: '3', packages: ['python'], nvd: { criteria: 'cpe:2.3:a:python:python:*:*:*:*:*:*:*:*' },
      version: (j) => `3.${13 + Math.floor((j + 1) / 6)}.${mod(j + 1, 6)}` }],
  },
  {
    key: 'macos', family: 'macos', vendor: 'apple', os: true, osFamilies: ['macos'], install: 1,
    schedule: { kind: 'periodic', everySnapshots: 120 }, update: 'none', feed: 'nvd', streamOf: byLine(['macos-14', 'macos-15']),
    streams: [
      { key: '14', gaMonthsBeforeStart: 15, packages: ['macos'], nvd: { criteria: 'cpe:2.3:o:apple:macos:*:*:*:*:*:*:*:*', startIncluding: '14.0' },
        version: (_j, c) => { const n = c.sinceGa; const minor = Math.min(7, Math.floor(n / 2)); const patch = minor === 7 ? n - 14 : n % 2; return patch ? `14.${minor}.${patch}` : `14.${minor}`; } },
      { key: '15', gaMonthsBeforeStart: 3, packages: ['macos'], nvd: { criteria: 'cpe:2.3:o:apple:macos:*:*:*:*:*:*:*:*', startIncluding: '15.0' },
        version: (_j, c) => { const n = c.sinceGa; return n % 2 ? `15.${Math.floor(n / 2)}.1` : `15.${Math.floor(n / 2)}`; } },
    ],
  },
  // Red Hat Enterprise Linux 9: one RHSA per stream and release, shipping each binary RPM of the source RPM.
  rhel('kernel', 'linux-kernel', 'kernel', ['kernel'], 60, (n) => `5.14.0-427.${13 + n}.1.el9_4`, (n) => `5.14.0-503.${11 + n}.1.el9_5`),
  rhel('openssl', 'openssl', 'openssl', ['openssl', 'openssl-libs'], 120, (n) => `1:3.0.7-${27 + n}.el9_4`, (n) => `1:3.2.2-${6 + n}.el9_5`),
  rhel('openssh', 'openssh', 'openssh', ['openssh'], 240, (n) => `8.7p1-${38 + n}.el9_4`, (n) => `8.7p1-${43 + n}.el9_5`),
  rhel('glibc', 'glibc', 'glibc', ['glibc'], 240, (n) => `2.34-${100 + n}.el9_4`, (n) => `2.34-${125 + n}.el9_5`),
  rhel('curl', 'curl', 'curl', ['curl', 'libcurl'], 180, (n) => `7.76.1-${29 + n}.el9_4`, (n) => `7.76.1-${31 + n}.el9_5`, 0.9),
  // Ubuntu 22.04 and 24.04: one USN per release covering both; 24.04 renamed some binaries (t64).
  ubuntu('linux', 'linux-kernel', 60, [(n) => `5.15.0-${60 + n}.${70 + n}`, ['linux']], [(n) => `6.8.0-${31 + n}.${31 + n}`, ['linux']]),
  ubuntu('openssl', 'openssl', 120, [(n) => `3.0.2-0ubuntu1.${n}`, ['libssl3', 'openssl']], [(n) => `3.0.13-0ubuntu3.${n}`, ['libssl3t64', 'openssl']]),
  ubuntu('openssh', 'openssh', 240, [(n) => `1:8.9p1-3ubuntu0.${n}`, ['openssh-client', 'openssh-server']], [(n) => `1:9.6p1-3ubuntu13.${n}`, ['openssh-client', 'openssh-server']]),
  ubuntu('curl', 'curl', 180, [(n) => `7.81.0-1ubuntu1.${n}`, ['curl', 'libcurl4']], [(n) => `8.5.0-2ubuntu10.${n}`, ['curl', 'libcurl4t64']], { install: 0.9 }),
  ubuntu('thunderbird', 'thunderbird', 120, [(n) => `1:115.${n}.0+build1-0ubuntu0.22.04.1`, ['thunderbird']], [(n) => `1:128.${n}.0+build1-0ubuntu0.24.04.1`, ['thunderbird']],
    { install: 0.2, lagDays: 0 }),
  // A universe package: its fixes reach 22.04 and 24.04 only through Ubuntu Pro (ESM Apps).
  ubuntu('imagemagick', 'imagemagick', 240,
    [(n) => `8:6.9.11.60+dfsg-1.3ubuntu0.22.04.5+esm${n}`, ['imagemagick', 'libmagickcore-6.q16-6']],
    [(n) => `8:6.9.12.98+dfsg1-5.2build2+esm${n}`, ['imagemagick', 'libmagickcore-6.q16-7t64']], { install: 0.2, ubuntuPro: true, lagDays: 0 }),
];

export const FAMILIES: readonly FamilySpec[] = [
  { key: 'windows', vendorProject: 'Microsoft', product: 'Windows', components: ['windows_10', 'windows_11', 'windows_server_2019', 'windows_server_2022', 'windows_server_2025'], cvesPerEvent: 70, lineShare: 0.85 },
  { key: 'dotnet', vendorProject: 'Microsoft', product: '.NET Framework', components: ['dotnet'], cvesPerEvent: 5, lineShare: 0.8 },
  { key: 'office', vendorProject: 'Microsoft', product: 'Office', components: ['office'], cvesPerEvent: 14, lineShare: 1 },
  { key: 'chromium', vendorProject: 'Google', product: 'Chromium', components: ['chrome', 'edge'], cvesPerEvent: 5.5, lineShare: 0.95 },
  { key: 'firefox', vendorProject: 'Mozilla', product: 'Firefox', components: ['firefox'], cvesPerEvent: 11, lineShare: 1 },
  { key: 'acrobat', vendorProject: 'Adobe', product: 'Acrobat Reader', components: ['acrobat_reader'], cvesPerEvent: 13, lineShare: 1 },
  { key: 'java8', vendorProject: 'Oracle', product: 'Java SE 8', components: ['jre'], cvesPerEvent: 14, lineShare: 1 },
  { key: 'java17', vendorProject: 'Oracle', product: 'Java SE 17', components: ['jdk'], cvesPerEvent: 6, lineShare: 1 },
  { key: '7-zip', vendorProject: '7-Zip', product: '7-Zip', components: ['7-zip'], cvesPerEvent: 2, lineShare: 1 },
  { key: 'zoom', vendorProject: 'Zoom', product: 'Workplace', components: ['zoom'], cvesPerEvent: 4, lineShare: 1 },
  { key: 'notepad++', vendorProject: 'Notepad++', product: 'Notepad++', components: ['notepad++'], cvesPerEvent: 2, lineShare: 1 },
  { key: 'vmware-tools', vendorProject: 'VMware', product: 'Tools', components: ['vmware_tools'], cvesPerEvent: 4, lineShare: 1 },
  { key: 'python', vendorProject: 'Python', product: 'Python', components: ['python'], cvesPerEvent: 6, lineShare: 1 },
  { key: 'macos', vendorProject: 'Apple', product: 'macOS', components: ['macos'], cvesPerEvent: 44, lineShare: 0.8 },
  { key: 'linux-kernel', vendorProject: 'Linux', product: 'Kernel', components: ['rhel:kernel', 'ubuntu:linux'], cvesPerEvent: 28, lineShare: 0.85, delayed: 0.06 },
  { key: 'openssl', vendorProject: 'OpenSSL', product: 'OpenSSL', components: ['rhel:openssl', 'ubuntu:openssl'], cvesPerEvent: 6, lineShare: 0.85, delayed: 0.06 },
  { key: 'openssh', vendorProject: 'OpenBSD', product: 'OpenSSH', components: ['rhel:openssh', 'ubuntu:openssh'], cvesPerEvent: 3, lineShare: 0.85, delayed: 0.06 },
  { key: 'curl', vendorProject: 'curl', product: 'curl', components: ['rhel:curl', 'ubuntu:curl'], cvesPerEvent: 5, lineShare: 0.85, delayed: 0.06 },
  { key: 'glibc', vendorProject: 'GNU', product: 'glibc', components: ['rhel:glibc'], cvesPerEvent: 8, lineShare: 0.9, delayed: 0.06 },
  { key: 'thunderbird', vendorProject: 'Mozilla', product: 'Thunderbird', components: ['ubuntu:thunderbird'], cvesPerEvent: 7, lineShare: 0.9 },
  { key: 'imagemagick', vendorProject: 'ImageMagick', product: 'ImageMagick', components: ['ubuntu:imagemagick'], cvesPerEvent: 5, lineShare: 0.9 },
];

/** Software no emulated device runs, whose CVEs fill Defender's knowledge base and NVD (CPE vendor, product, version). */
export const OTHER_PRODUCTS: readonly { vendor: string; product: string; version: string; vendorProject: string; label: string }[] = [
  { vendor: 'apache', product: 'http_server', version: '2.4', vendorProject: 'Apache', label: 'HTTP Server' },
  { vendor: 'php', product: 'php', version: '8.3', vendorProject: 'PHP', label: 'PHP' },
  { vendor: 'wordpress', product: 'wordpress', version: '6.7', vendorProject: 'WordPress', label: 'WordPress' },
  { vendor: 'fortinet', product: 'fortios', version: '7.4', vendorProject: 'Fortinet', label: 'FortiOS' },
  { vendor: 'cisco', product: 'ios_xe', version: '17.9', vendorProject: 'Cisco', label: 'IOS XE' },
  { vendor: 'jenkins', product: 'jenkins', version: '2.480', vendorProject: 'Jenkins', label: 'Jenkins' },
  { vendor: 'gitlab', product: 'gitlab', version: '17.6', vendorProject: 'GitLab', label: 'GitLab' },
  { vendor: 'ivanti', product: 'connect_secure', version: '22.7', vendorProject: 'Ivanti', label: 'Connect Secure' },
  { vendor: 'atlassian', product: 'confluence_data_center', version: '9.1', vendorProject: 'Atlassian', label: 'Confluence Data Center' },
  { vendor: 'paloaltonetworks', product: 'pan-os', version: '11.2', vendorProject: 'Palo Alto Networks', label: 'PAN-OS' },
  { vendor: 'sap', product: 'netweaver', version: '7.50', vendorProject: 'SAP', label: 'NetWeaver' },
  { vendor: 'vmware', product: 'vcenter_server', version: '8.0', vendorProject: 'VMware', label: 'vCenter Server' },
];

export const RBAC_GROUPS: readonly { id: number; name: string; server: boolean | null; weight: number }[] = [
  { id: 0, name: 'Unassigned', server: null, weight: 0 },
  { id: 1, name: 'Workstations', server: false, weight: 46 },
  { id: 2, name: 'Engineering', server: false, weight: 24 },
  { id: 3, name: 'Finance', server: false, weight: 12 },
  { id: 4, name: 'Servers', server: true, weight: 45 },
  { id: 5, name: 'Production', server: true, weight: 35 },
  { id: 6, name: 'Kiosks', server: false, weight: 6 },
  { id: 7, name: 'Sales', server: false, weight: 9 },
  { id: 8, name: 'Executives', server: false, weight: 3 },
  { id: 9, name: 'Lab', server: true, weight: 15 },
  { id: 10, name: 'DMZ', server: true, weight: 5 },
];
