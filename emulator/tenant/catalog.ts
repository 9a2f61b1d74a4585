// The software world the emulated tenant lives in: operating systems, products, their release
// cadence and version strings, in Defender's lower-case vendor/product style.

export type OsFamily = 'windows' | 'rhel' | 'ubuntu' | 'macos';
export type UpdateStyle = 'kb' | 'rhsa' | 'usn' | 'none';

export interface ProductSpec {
  vendor: string;
  name: string;
  families: readonly OsFamily[];
  /** Share of devices of those families that have it installed. */
  install: number;
  /** Snapshots (6 h) between two releases. */
  releaseEvery: number;
  /** Average number of CVEs each release fixes. */
  cvesPerRelease: number;
  /** Version string of release j (j may be negative: releases before the emulator's start). */
  version: (j: number) => string;
  update: UpdateStyle;
  diskPath?: string;
  registryPath?: string;
  endOfSupport?: boolean;
}

/** Shift so version arithmetic stays positive for the releases we ever generate. */
const J = (j: number) => j + 200;

export interface OsSpec {
  family: OsFamily;
  osPlatform: string;
  /** The OS itself as a vulnerable product (Windows and macOS); Linux OS CVEs live in packages. */
  product?: ProductSpec;
  osVersion: (productVersion: string | undefined) => string;
  share: number;
  architectures: readonly (readonly [string, number])[];
  server: boolean;
}

function windowsBuild(vendorName: string, build: string, base: number, step: number, install = 1): ProductSpec {
  return {
    vendor: 'microsoft',
    name: vendorName,
    families: ['windows'],
    install,
    releaseEvery: 120,
    cvesPerRelease: 20,
    version: (j) => `10.0.${build}.${base + J(j) * step}`,
    update: 'kb',
  };
}

export const OPERATING_SYSTEMS: readonly OsSpec[] = [
  {
    family: 'windows', osPlatform: 'Windows11', product: windowsBuild('windows_11', '22631', 1200, 23),
    osVersion: (v) => v ?? '', share: 38, architectures: [['x64', 94], ['arm64', 6]], server: false,
  },
  {
    family: 'windows', osPlatform: 'Windows10', product: windowsBuild('windows_10', '19045', 2100, 21),
    osVersion: (v) => v ?? '', share: 24, architectures: [['x64', 97], ['x86', 3]], server: false,
  },
  {
    family: 'windows', osPlatform: 'WindowsServer2022', product: windowsBuild('windows_server_2022', '20348', 900, 19),
    osVersion: (v) => v ?? '', share: 8, architectures: [['x64', 1]], server: true,
  },
  {
    family: 'windows', osPlatform: 'WindowsServer2019', product: windowsBuild('windows_server_2019', '17763', 3300, 17),
    osVersion: (v) => v ?? '', share: 4, architectures: [['x64', 1]], server: true,
  },
  {
    family: 'rhel', osPlatform: 'Linux', osVersion: () => 'enterprise_linux_9.4', share: 9,
    architectures: [['x64', 9], ['arm64', 1]], server: true,
  },
  {
    family: 'ubuntu', osPlatform: 'Linux', osVersion: () => 'ubuntu_linux_22.04', share: 7,
    architectures: [['x64', 1]], server: true,
  },
  {
    family: 'macos', osPlatform: 'macOS', share: 10, architectures: [['arm64', 8], ['x64', 2]], server: false,
    product: {
      vendor: 'apple', name: 'macos', families: ['macos'], install: 1, releaseEvery: 120, cvesPerRelease: 18,
      version: (j) => `14.${Math.floor(J(j) / 8)}.${J(j) % 8}`, update: 'none',
    },
    osVersion: (v) => v ?? '',
  },
];

const desktop: OsFamily[] = ['windows', 'macos'];

export const APPLICATIONS: readonly ProductSpec[] = [
  {
    vendor: 'google', name: 'chrome', families: desktop, install: 0.72, releaseEvery: 28, cvesPerRelease: 7,
    version: (j) => `${110 + Math.floor(J(j) / 4)}.0.${5400 + J(j) * 37}.${(J(j) * 13) % 190}`, update: 'none',
    diskPath: 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    registryPath: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Google Chrome',
  },
  {
    vendor: 'microsoft', name: 'edge_chromium-based', families: desktop, install: 0.95, releaseEvery: 28, cvesPerRelease: 7,
    version: (j) => `${110 + Math.floor(J(j) / 4)}.0.${1500 + J(j) * 31}.${(J(j) * 7) % 97}`, update: 'none',
    diskPath: 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
  },
  {
    vendor: 'mozilla', name: 'firefox', families: [...desktop, 'ubuntu'], install: 0.22, releaseEvery: 28, cvesPerRelease: 7,
    version: (j) => `${100 + Math.floor(J(j) / 2)}.0.${J(j) % 2}`, update: 'none',
    diskPath: 'C:\\Program Files\\Mozilla Firefox\\firefox.exe',
  },
  {
    vendor: 'microsoft', name: 'office', families: desktop, install: 0.6, releaseEvery: 120, cvesPerRelease: 11,
    version: (j) => `16.0.${15000 + J(j) * 101}.${20000 + (J(j) * 17) % 300}`, update: 'kb',
    diskPath: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
  },
  {
    vendor: 'adobe', name: 'acrobat_reader_dc', families: desktop, install: 0.35, releaseEvery: 120, cvesPerRelease: 9,
    version: (j) => `24.${String(Math.floor(J(j) / 6)).padStart(3, '0')}.${20000 + J(j) * 19}`, update: 'none',
    diskPath: 'C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe',
  },
  {
    vendor: 'zoom', name: 'zoom', families: desktop, install: 0.3, releaseEvery: 90, cvesPerRelease: 4,
    version: (j) => `6.${Math.floor(J(j) / 10)}.${J(j) % 10}.${40000 + J(j) * 7}`, update: 'none',
  },
  {
    vendor: 'oracle', name: 'jre', families: ['windows', 'rhel', 'ubuntu'], install: 0.12, releaseEvery: 360, cvesPerRelease: 14,
    version: (j) => `1.8.0.${300 + J(j)}`, update: 'none', endOfSupport: true,
  },
  {
    vendor: '7-zip', name: '7-zip', families: ['windows'], install: 0.2, releaseEvery: 480, cvesPerRelease: 2,
    version: (j) => `${19 + Math.floor(J(j) / 10)}.${String(J(j) % 10).padStart(2, '0')}`, update: 'none',
  },
  {
    vendor: 'notepad-plus-plus', name: 'notepad++', families: ['windows'], install: 0.15, releaseEvery: 240, cvesPerRelease: 2,
    version: (j) => `8.${Math.floor(J(j) / 10)}.${J(j) % 10}`, update: 'none',
  },
  {
    vendor: 'vmware', name: 'tools', families: ['windows', 'rhel', 'ubuntu'], install: 0.18, releaseEvery: 360, cvesPerRelease: 4,
    version: (j) => `12.${Math.floor(J(j) / 5)}.${J(j) % 5}.0`, update: 'none',
  },
  {
    vendor: 'python', name: 'python', families: ['windows', 'macos'], install: 0.12, releaseEvery: 240, cvesPerRelease: 4,
    version: (j) => `3.${Math.floor(J(j) / 10)}.${J(j) % 10}`, update: 'none',
  },
  {
    vendor: 'red_hat', name: 'openssl', families: ['rhel'], install: 1, releaseEvery: 120, cvesPerRelease: 7,
    version: (j) => `1:3.0.7-${J(j)}.el9_4`, update: 'rhsa',
  },
  {
    vendor: 'red_hat', name: 'kernel', families: ['rhel'], install: 1, releaseEvery: 60, cvesPerRelease: 18,
    version: (j) => `5.14.0-${300 + J(j) * 3}.el9_4`, update: 'rhsa',
  },
  {
    vendor: 'red_hat', name: 'openssh', families: ['rhel'], install: 1, releaseEvery: 240, cvesPerRelease: 4,
    version: (j) => `8.7p1-${J(j)}.el9_4`, update: 'rhsa',
  },
  {
    vendor: 'red_hat', name: 'glibc', families: ['rhel'], install: 1, releaseEvery: 240, cvesPerRelease: 7,
    version: (j) => `2.34-${J(j)}.el9_4`, update: 'rhsa',
  },
  {
    vendor: 'red_hat', name: 'curl', families: ['rhel'], install: 0.9, releaseEvery: 180, cvesPerRelease: 7,
    version: (j) => `7.76.1-${J(j)}.el9_4`, update: 'rhsa',
  },
  {
    vendor: 'ubuntu', name: 'openssl', families: ['ubuntu'], install: 1, releaseEvery: 120, cvesPerRelease: 7,
    version: (j) => `3.0.2-0ubuntu1.${J(j)}`, update: 'usn',
  },
  {
    vendor: 'ubuntu', name: 'linux', families: ['ubuntu'], install: 1, releaseEvery: 60, cvesPerRelease: 18,
    version: (j) => `5.15.0-${J(j)}.${J(j) + 10}`, update: 'usn',
  },
  {
    vendor: 'ubuntu', name: 'openssh', families: ['ubuntu'], install: 1, releaseEvery: 240, cvesPerRelease: 4,
    version: (j) => `1:8.9p1-3ubuntu0.${J(j)}`, update: 'usn',
  },
  {
    vendor: 'ubuntu', name: 'curl', families: ['ubuntu'], install: 0.9, releaseEvery: 180, cvesPerRelease: 7,
    version: (j) => `7.81.0-1ubuntu1.${J(j)}`, update: 'usn',
  },
  {
    vendor: 'ubuntu', name: 'thunderbird', families: ['ubuntu'], install: 0.2, releaseEvery: 120, cvesPerRelease: 7,
    version: (j) => `1:115.${J(j)}.0+build1-0ubuntu0.22.04.1`, update: 'usn',
  },
];

/** Every product, OS builds first, with a stable index used as a hashing coordinate. */
export const PRODUCTS: readonly ProductSpec[] = [
  ...OPERATING_SYSTEMS.flatMap((os) => (os.product ? [os.product] : [])),
  ...APPLICATIONS,
];

export const RBAC_GROUPS: readonly { id: number; name: string; server: boolean | null }[] = [
  { id: 0, name: 'Unassigned', server: null },
  { id: 1, name: 'Workstations', server: false },
  { id: 2, name: 'Engineering', server: false },
  { id: 3, name: 'Finance', server: false },
  { id: 4, name: 'Servers', server: true },
  { id: 5, name: 'Production', server: true },
  { id: 6, name: 'Kiosks', server: false },
];

export const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];
