// The patch world: every component's releases, the CVEs each release fixes, and the updates that
// ship them (KB, RHSA, USN), all computed on demand from the seed. It is global: every tenant of an
// emulator sees the same CVE with the same facts, and the vendor feeds describe the same world.
//
// A family of components shares CVEs (Windows build lines, Chrome and Edge, RHEL's and Ubuntu's
// openssl). Its CVEs are generated per release ("event") of its first component; each line (a
// component's stream) the CVE affects is fixed by that component's first release at or after the
// event, a few days later for later members, or some releases later when the family delays it.
// A line at release r is therefore exposed to exactly the CVEs whose fix for it is a later release:
// the release model the tenant's devices are built on.

import { DAY_MS, SNAPSHOT_MS, isoDate, mod } from './calendar.js';
import {
  COMPONENTS, FAMILIES, OPERATING_SYSTEMS, OTHER_PRODUCTS, type ComponentSpec, type FamilySpec, type OsSpec, type StreamSpec,
} from './catalog.js';
import { baseScore, severityOf, vectorFor, vectorString, type CvssMetrics } from './cvss.js';
import { between, hash, pick, seedFrom, unit } from './random.js';
import { PatchTuesdaySchedule, PeriodicSchedule, QuarterlySchedule, type Schedule } from './schedule.js';

export const DEFAULT_PATCH_CADENCE = 100;
/** Defender keeps 14 days of change batches. */
export const DELTA_WINDOW_SNAPSHOTS = 14 * 24 / 6;
/** A CVE may be disclosed up to this many snapshots before its fix ships. */
const MAX_EARLY_DISCLOSURE = 8;
/** The knowledge base Defender serves holds about this many CVEs at the start (it must page). */
const KNOWLEDGE_BASE_SIZE = 12_000;
const MAX_CATALOG_YEARS = 4;
/** CVE serials: 4 or 5 digits; the top of the range is kept for ids no CVE uses (withdrawn documents). */
const SERIAL_SPACE = 99_000;
const SERIALS_FOR_CVES = 98_000;
const YEAR_MS = 365.25 * DAY_MS;

// Salts: one per kind of random fact, so facts stay independent.
const S = {
  count: 101, facts: 102, lines: 103, delay: 104, phase: 105, kb: 106, version: 107, supersedence: 108,
  nvd: 109, revision: 110, ghost: 111,
} as const;

export interface Line {
  index: number;
  key: string;
  component: Component;
  stream: StreamSpec;
  streamIndex: number;
  /** Its first release slot (streams that started before the world's horizon: -Infinity). */
  gaSlot: number;
  /** Position among its family's lines (index into Cve.fixes). */
  familyLine: number;
  /** Seeds the jitter of its version numbers (lines that share a build share it). */
  hashKey: number;
}

export interface Component {
  index: number;
  spec: ComponentSpec;
  family: Family;
  schedule: Schedule;
  lines: Line[];
  /** Latest family fix a member ships after (ms): 0 for the family's first component. */
  lagMs: number;
  /** Longest delay of a delayed fix (ms), lag included. */
  maxDelayMs: number;
  /** Average time between two of its releases (ms). */
  meanPeriodMs: number;
  /** Devices never run a release older than this (the catalog covers everything after it). */
  floorSlot: number;
  /** Defender's software names of a stream. */
  packages(stream: number): readonly string[];
}

export interface Family {
  index: number;
  spec: FamilySpec;
  components: Component[];
  lines: Line[];
  events: Schedule;
  /** CVE serials of this family start at this offset of the serial space, `cap` per event. */
  serialBase: number;
  cap: number;
  /** First event of the catalog. */
  firstEvent: number;
  /** CVEs with no installed product (Defender's knowledge base is much larger than any tenant's exposure). */
  ghost: boolean;
}

/** Why a fix comes late: Red Hat's "Will not fix", "Deferred", or still "Affected" (a fix in progress). */
export type DelayReason = 'will_not_fix' | 'deferred' | 'affected';

export interface Cve {
  id: string;
  family: Family;
  /** Event slot (a release slot of the family's first component) and its time. */
  event: number;
  eventTime: number;
  publishedAt: number;
  /** Per family line: the release slot of that line's component that fixes it, or NaN when not affected. */
  fixes: Float64Array;
  /** Per family line: why the fix comes later than the family's, or undefined. */
  delays: (DelayReason | undefined)[];
  cvss: number;
  vector: string;
  metrics: CvssMetrics;
  severity: 'Low' | 'Medium' | 'High' | 'Critical';
  /** Some rows in real exports carry no severity. */
  severityMissing: boolean;
  epss: number;
  /** Times (ms) at which an exploit becomes public, verified, in a kit (null: never). */
  exploitStages: [number | null, number | null, number | null];
  exploitTypes: string[];
  /** Exploited in the wild: CISA's KEV catalog lists it from dateAdded (ms). */
  kev: { dateAdded: number; dueDays: number; ransomware: boolean } | null;
  /** Who makes the affected product, and what it is called (KEV's vendorProject and product). */
  vendorProject: string;
  product: string;
  /** For CVEs of software no device runs: its CPE (index into OTHER_PRODUCTS). */
  otherProduct?: number;
  impact: string;
  title: string;
  description: string;
  /** NVD analysis: first (null: still awaiting analysis), and again once a fix ships. */
  nvdAnalysedAt: number | null;
  nvdReanalysedAt: number | null;
}

/** A CVE as one line sees it: the release of the line's component that fixes it. */
export interface LineCve {
  cve: Cve;
  fix: number;
}

export interface WorldOptions {
  seed: number;
  /** The emulator's first snapshot (ms, on a 6-hour boundary). */
  startTime: number;
  patchCadence?: number;
}

const COMPONENT_BY_KEY = new Map(COMPONENTS.map((c, i) => [c.key, i]));

function periodicPhase(spec: ComponentSpec, seed: number, salt: number): number {
  const every = (spec.schedule as { everySnapshots: number }).everySnapshots;
  // A later member of a family on the same cadence ships `lagDays` after the first one.
  const first = COMPONENTS.find((c) => c.family === spec.family)!;
  if (first !== spec && spec.lagDays && first.schedule.kind === 'periodic' && first.schedule.everySnapshots === every) {
    return mod(periodicPhase(first, seed, COMPONENT_BY_KEY.get(first.key)!) - spec.lagDays * 4, every);
  }
  return hash(seed, S.phase, salt) % every;
}

function scheduleOf(spec: ComponentSpec, start: number, seed: number, salt: number): Schedule {
  switch (spec.schedule.kind) {
    case 'periodic': return new PeriodicSchedule(start, spec.schedule.everySnapshots, periodicPhase(spec, seed, salt));
    case 'patchTuesday': return new PatchTuesdaySchedule(start, seed, { monthly: spec.schedule.monthly, outOfBand: spec.schedule.outOfBand, salt: 1000 + salt });
    case 'quarterly': return new QuarterlySchedule(start);
  }
}

/** Windows' out-of-band releases are family-wide: every build line gets one the same day. */
function windowsScheduleSalt(spec: ComponentSpec, index: number): number {
  return spec.family === 'windows' ? -1 : index;
}

export class World {
  readonly seed: number;
  readonly startTime: number;
  readonly cadence: number;
  readonly components: Component[] = [];
  readonly families: Family[] = [];
  readonly lines: Line[] = [];
  readonly operatingSystems: readonly OsSpec[] = OPERATING_SYSTEMS;
  /** CVEs per event are scaled by this to keep about 50 findings per device whatever the cadence. */
  readonly scale: number;
  /** Where the catalog begins: the knowledge base's depth (families reach further back where devices can lag more). */
  catalogStart = 0;
  private readonly eventCache = new Map<number, Cve[]>();
  private readonly lineEventCache = new Map<number, { all: LineCve[]; delayed: LineCve[] }>();
  private readonly byId = new Map<string, Cve>();
  private readonly versionCache = new Map<number, string>();
  private readonly updateCache = new Map<number, string | null>();
  private readonly fixesCache = new Map<number, Cve[]>();
  private generatedUntil = -Infinity;

  constructor(options: WorldOptions) {
    this.seed = options.seed;
    this.startTime = options.startTime;
    this.cadence = options.patchCadence ?? DEFAULT_PATCH_CADENCE;
    // Slower patching leaves devices further behind; fewer CVEs per release keep about 50 findings
    // per device (the power is what holds that from a cadence of 100 to 300).
    this.scale = (DEFAULT_PATCH_CADENCE / this.cadence) ** 0.8;

    for (const [f, spec] of FAMILIES.entries()) {
      this.families.push({ index: f, spec, components: [], lines: [], events: undefined!, serialBase: 0, cap: 0, firstEvent: 0, ghost: false });
    }
    const familyOf = new Map(this.families.map((f) => [f.spec.key, f]));
    for (const [c, spec] of COMPONENTS.entries()) {
      const family = familyOf.get(spec.family)!;
      const schedule = scheduleOf(spec, this.startTime, this.seed, windowsScheduleSalt(spec, c));
      const component: Component = {
        index: c, spec, family, schedule, lines: [], lagMs: 0, maxDelayMs: 0, floorSlot: 0,
        meanPeriodMs: (schedule.time(schedule.back(schedule.latest(this.startTime), -12)) - schedule.time(schedule.latest(this.startTime))) / 12,
        packages: (stream) => spec.streams[stream].packages,
      };
      this.components.push(component);
    }
    for (const family of this.families) {
      family.components = family.spec.components.map((key) => this.components[COMPONENT_BY_KEY.get(key)!]);
      family.events = family.components[0].schedule;
    }
    for (const component of this.components) {
      const first = component.family.components[0] === component;
      component.lagMs = first ? 0 : (component.spec.lagDays ?? 0) * DAY_MS;
      component.maxDelayMs = component.family.spec.delayed ? component.lagMs + 9 * Math.max(component.meanPeriodMs, 7 * DAY_MS) : component.lagMs;
      component.spec.streams.forEach((stream, s) => {
        const gaSlot = stream.gaMonthsBeforeStart === undefined ? -Infinity
          : component.schedule.firstAtOrAfter(this.startTime - stream.gaMonthsBeforeStart * 30.44 * DAY_MS);
        const line: Line = {
          index: this.lines.length, key: `${component.spec.key}@${stream.key}`, component, stream, streamIndex: s, gaSlot,
          familyLine: component.family.lines.length,
          hashKey: seedFrom(stream.msrc?.build ?? `${component.spec.key}@${stream.key}`),
        };
        this.lines.push(line);
        component.lines.push(line);
        component.family.lines.push(line);
      });
      // The oldest release a device can run: as far back as a slow patcher falls behind, and more.
      const oldestUpdate = this.startTime - (DELTA_WINDOW_SNAPSHOTS + 2 * this.cadence) * SNAPSHOT_MS;
      component.floorSlot = component.schedule.back(component.schedule.latest(oldestUpdate), 10);
    }
    this.addGhostFamily();
    this.allocateSerials();
    this.fillKnowledgeBase();
  }

  // ---- structure ------------------------------------------------------------------------------

  component(key: string): Component {
    const index = COMPONENT_BY_KEY.get(key);
    if (index === undefined) throw new Error(`unknown component ${key}`);
    return this.components[index];
  }

  /** Expected CVEs a year across the installed families. */
  private expectedCvesPerYear(): number {
    let total = 0;
    for (const family of this.families) {
      const events = family.events.slotsPerYear * this.existenceShare(family.components[0].spec);
      total += events * family.spec.cvesPerEvent * this.scale;
    }
    return total;
  }

  private existenceShare(spec: ComponentSpec): number {
    return spec.schedule.kind === 'patchTuesday' ? (spec.schedule.monthly + spec.schedule.outOfBand * 0.05) / 2 : 1;
  }

  /**
   * Defender's knowledge base lists every CVE it knows, most of them for software no device of the
   * tenant runs: a family without components fills the catalog up to KNOWLEDGE_BASE_SIZE (its CVE
   * count is set once the real families' catalog is known, see fillKnowledgeBase).
   */
  private addGhostFamily(): void {
    const years = Math.min(MAX_CATALOG_YEARS, Math.max(0.5, KNOWLEDGE_BASE_SIZE / this.expectedCvesPerYear()));
    this.catalogStart = this.startTime - years * YEAR_MS;
    const events = new PeriodicSchedule(this.startTime, 28, hash(this.seed, S.ghost) % 28);
    const mostPerEvent = KNOWLEDGE_BASE_SIZE / (years * (events.slotsPerYear - 1));
    const spec: FamilySpec = { key: 'other', vendorProject: 'Various', product: 'Various', components: [], cvesPerEvent: mostPerEvent, lineShare: 0 };
    this.families.push({ index: this.families.length, spec, components: [], lines: [], serialBase: 0, cap: 0, firstEvent: 0, ghost: true, events });
  }

  private fillKnowledgeBase(): void {
    const ghost = this.families[this.families.length - 1];
    const mostPerEvent = ghost.spec.cvesPerEvent;
    (ghost.spec as { cvesPerEvent: number }).cvesPerEvent = 0;
    let real = 0;
    for (const _cve of this.catalog(this.startTime)) real++;
    const events = ghost.events.latest(this.startTime) - ghost.firstEvent + 1;
    (ghost.spec as { cvesPerEvent: number }).cvesPerEvent = Math.min(mostPerEvent, Math.max(0, (KNOWLEDGE_BASE_SIZE - real) / Math.max(1, events)));
    this.eventCache.clear();
    this.lineEventCache.clear();
    this.fixesCache.clear();
    this.byId.clear();
  }

  private allocateSerials(): void {
    const caps = this.families.map((f) => Math.max(1, Math.ceil(2 * f.spec.cvesPerEvent * (f.ghost ? 1 : this.scale))));
    const total = this.families.reduce((sum, f, i) => sum + f.events.slotsPerYear * caps[i], 0);
    const shrink = Math.min(1, SERIALS_FOR_CVES / total);
    let base = 0;
    for (const [i, family] of this.families.entries()) {
      family.cap = Math.max(1, Math.floor(caps[i] * shrink));
      family.serialBase = base;
      base += family.events.slotsPerYear * family.cap;
      let start = this.catalogStart;
      for (const c of family.components) start = Math.min(start, c.schedule.time(c.floorSlot) - c.maxDelayMs - DAY_MS);
      family.firstEvent = family.events.firstAtOrAfter(start);
    }
  }

  /** A serial no other CVE of that year has: the (family, event of the year, index) tuple, permuted. */
  private serial(family: Family, event: number, m: number): { year: number; serial: number } {
    const year = new Date(family.events.time(event)).getUTCFullYear();
    // Empty slots keep their ordinal, so no two events of a year share one.
    const ordinal = Math.min(family.events.slotsPerYear - 1, event - family.events.firstSlot(Date.UTC(year, 0, 1)));
    return { year, serial: permuteSerial(family.serialBase + ordinal * family.cap + m, this.seed) };
  }

  /** An id in the reserved range: valid-looking, never a CVE of this world (for withdrawn documents). */
  unusedCveId(year: number, n: number): string {
    return `CVE-${year}-${permuteSerial(SERIALS_FOR_CVES + (n % (SERIAL_SPACE - SERIALS_FOR_CVES)), this.seed)}`;
  }

  // ---- releases -------------------------------------------------------------------------------

  releaseTime(component: Component, j: number): number {
    return component.schedule.time(j);
  }

  /** The latest release of a component at time t, never older than its floor. */
  latestRelease(component: Component, t: number): number {
    return Math.max(component.floorSlot, component.schedule.latest(t));
  }

  version(line: Line, j: number): string {
    const key = line.index * 1_000_003 + j + 500_000;
    let text = this.versionCache.get(key);
    if (text === undefined) {
      text = this.computeVersion(line, j);
      this.versionCache.set(key, text);
    }
    return text;
  }

  private computeVersion(line: Line, j: number): string {
    return line.stream.version(j, {
      sinceGa: Number.isFinite(line.gaSlot) ? this.countReleases(line.component, line.gaSlot, j) : j,
      hash: (x) => hash(this.seed, S.version, line.hashKey, x),
    });
  }

  /** Existing releases of a component in [from, to] minus one: releases since from. */
  private countReleases(component: Component, from: number, to: number): number {
    if (component.spec.schedule.kind !== 'patchTuesday') return to - from;
    let n = 0;
    for (let j = from; j < to; j++) if (component.schedule.exists(j + 1)) n++;
    return n;
  }

  /** The release before j of the same line, or undefined before its first. */
  previousRelease(line: Line, j: number): number | undefined {
    const previous = line.component.schedule.back(j, 1);
    return previous >= line.gaSlot ? previous : undefined;
  }

  /** Whether the line exists at release slot j. */
  lineExists(line: Line, j: number): boolean {
    return j >= line.gaSlot;
  }

  // ---- update identifiers --------------------------------------------------------------------

  /** The KB of a Microsoft line's release: 7 digits, increasing in release order, unique across lines. */
  kb(line: Line, j: number): string {
    const slot = line.stream.msrc!.kbSlot;
    const month = Math.floor(j / 2);
    return String(5_048_600 + 2_600 * month + (j & 1) * 1_300 + slot * 130 + (hash(this.seed, S.kb, slot, j) % 100));
  }

  /** `RHSA-YYYY:NNNN`, numbered in release order within the year. */
  rhsa(line: Line, j: number): string {
    const time = this.releaseTime(line.component, j);
    const year = new Date(time).getUTCFullYear();
    const ofYear = Math.floor((time - Date.UTC(year, 0, 1)) / SNAPSHOT_MS);
    const rhelLines = this.lines.filter((l) => l.stream.redhat);
    const n = 1 + ofYear * rhelLines.length + rhelLines.indexOf(line);
    return `RHSA-${year}:${String(n).padStart(4, '0')}`;
  }

  /** `USN-NNNN-1`: one notice per Ubuntu release of a source package, numbered in release order. */
  usn(component: Component, j: number): string {
    const time = this.releaseTime(component, j);
    let n = 7241;
    for (const other of this.ubuntuComponents()) {
      n += other.schedule.latest(other.index < component.index ? time : time - 1) - other.schedule.latest(this.startTime);
    }
    return `USN-${n}-1`;
  }

  private ubuntuList?: Component[];
  private ubuntuComponents(): Component[] {
    return this.ubuntuList ??= this.components.filter((c) => c.spec.update === 'usn');
  }

  /** The update id Defender's RecommendedSecurityUpdateId carries for a line's release. */
  updateId(line: Line, j: number): string | null {
    const key = line.index * 1_000_003 + j + 500_000;
    let id = this.updateCache.get(key);
    if (id === undefined) {
      switch (line.component.spec.update) {
        case 'kb': id = this.kb(line, j); break;
        case 'rhsa': id = this.rhsa(line, j); break;
        case 'usn': id = this.usn(line.component, j); break;
        case 'none': id = null; break;
      }
      this.updateCache.set(key, id);
    }
    return id;
  }

  // ---- CVEs -----------------------------------------------------------------------------------

  /** CVEs of one family event, memoised (the catalog is small: thousands). */
  eventCves(family: Family, e: number): Cve[] {
    const key = family.index * 1_000_003 + e + 500_000;
    let list = this.eventCache.get(key);
    if (!list) {
      list = [];
      if (e >= family.firstEvent && family.events.exists(e)) {
        const oob = family.events.outOfBand(e);
        const wanted = family.ghost ? family.spec.cvesPerEvent : family.spec.cvesPerEvent * this.scale;
        const raw = oob ? hash(this.seed, S.count, family.index, e) % 2 : Math.round(unit(hash(this.seed, S.count, family.index, e)) * 2 * wanted);
        const count = Math.min(family.cap, raw);
        for (let m = 0; m < count; m++) {
          const cve = this.makeCve(family, e, m);
          if (cve) {
            list.push(cve);
            this.byId.set(cve.id, cve);
          }
        }
      }
      this.eventCache.set(key, list);
    }
    return list;
  }

  private makeCve(family: Family, e: number, m: number): Cve | undefined {
    const h = (salt: number) => hash(this.seed, S.facts, family.index * 4096 + m, e, salt);
    const eventTime = family.events.time(e);
    const fixes = new Float64Array(family.lines.length).fill(NaN);
    const delays: (DelayReason | undefined)[] = new Array(family.lines.length).fill(undefined);
    const affected = this.affectedLines(family, e, m, eventTime);
    if (!family.ghost && affected.length === 0) return undefined;
    for (const component of family.components) {
      const hc = (salt: number) => hash(this.seed, S.delay, family.index * 4096 + m, e, component.index * 8 + salt);
      const delayed = family.spec.delayed !== undefined && unit(hc(0)) < family.spec.delayed;
      const delayMs = delayed ? between(hc(1), 4, 8) * Math.max(component.meanPeriodMs, 7 * DAY_MS) : 0;
      const lag = component.lagMs ? hc(2) % (component.lagMs + 1) : 0;
      const fix = component.schedule.firstAtOrAfter(eventTime + lag + delayMs);
      for (const line of component.lines) {
        if (!affected.includes(line)) continue;
        fixes[line.familyLine] = Math.max(fix, line.gaSlot);
        if (delayed) {
          const why = unit(hc(3));
          delays[line.familyLine] = why < 0.4 ? 'will_not_fix' : why < 0.7 ? 'deferred' : 'affected';
        }
      }
    }
    const msrcFamily = family.components.some((c) => c.spec.feed === 'msrc' && c === family.components[0]);
    const early = unit(h(1)) < (msrcFamily ? 0.04 : 0.15);
    const offset = early ? -between(h(2), 1, MAX_EARLY_DISCLOSURE) : msrcFamily ? 0 : between(h(2), 0, 6);
    const { year, serial } = this.serial(family, e, m);
    // A CVE id's year is never later than its publication: an early disclosure waits for the new year.
    const publishedAt = Math.max(Date.UTC(year, 0, 1), eventTime + offset * SNAPSHOT_MS - (h(3) % (4 * 60)) * 60_000);
    const tvm = !family.ghost && unit(h(4)) < 0.02;
    const id = tvm ? `TVM-${year}-${String(serial).padStart(4, '0')}` : `CVE-${year}-${serial}`;
    const metrics = vectorFor(h(5), h(6));
    const cvss = baseScore(metrics);
    const exploited = unit(h(11)) < (early ? 0.4 : 0.25);
    const inTheWild = exploited && !tvm && unit(h(17)) < (family.ghost ? 0.04 : early ? 0.35 : 0.1);
    const publicAt = exploited ? publishedAt + between(h(12), 0, inTheWild ? 4 : 40) * SNAPSHOT_MS : null;
    const verifiedAt = publicAt !== null && (inTheWild || unit(h(13)) < 0.5) ? publicAt + between(h(14), inTheWild ? 0 : 2, inTheWild ? 4 : 20) * SNAPSHOT_MS : null;
    const kitAt = verifiedAt !== null && unit(h(15)) < 0.4 ? verifiedAt + between(h(16), 2, 20) * SNAPSHOT_MS : null;
    const impact = impactOf(metrics);
    const exploitTypes = exploited ? [metrics.AV === 'N' ? 'Remote' : impact === 'Denial of Service' ? 'DenialOfService' : 'PrivilegeEscalation'] : [];
    const otherProduct = family.ghost ? h(27) % OTHER_PRODUCTS.length : undefined;
    const vendorProject = otherProduct === undefined ? family.spec.vendorProject : OTHER_PRODUCTS[otherProduct].vendorProject;
    const product = otherProduct === undefined ? family.spec.product : OTHER_PRODUCTS[otherProduct].label;
    const title = `${pick(h(20), SUBSYSTEMS[family.spec.key] ?? [product])} ${impact} Vulnerability`;
    const label = vendorProject === product ? product : `${vendorProject} ${product}`;
    const description = unit(h(21)) < 0.05 ? '' :
      `Summary: ${title.replace(/ Vulnerability$/, '')}: ${/^[AEIOU]/.test(impact) ? 'an' : 'a'} ${impact.toLowerCase()} vulnerability exists in ${label}. ` +
      `Impact: An attacker who successfully exploits it could ${metrics.AV === 'N' ? 'run code remotely' : 'gain elevated access'} on affected devices. ` +
      `Remediation: Install the update that fixes it, or a later one. [Generated by AI]`;
    // Most CVEs are unlikely ever to be exploited (EPSS near 0); those with an exploit score higher.
    const epss = inTheWild ? 0.3 + unit(h(23)) ** 0.5 * 0.67 : exploited ? 0.005 + unit(h(23)) ** 3 * 0.4 : 0.0002 + unit(h(23)) ** 15 * 0.1;
    const analysis = unit(h(24));
    const nvdAnalysedAt = analysis < 0.08 ? null : publishedAt + between(h(25), 1, 40) * SNAPSHOT_MS;
    const firstFix = this.firstFixTime(family, fixes);
    const nvdReanalysedAt = nvdAnalysedAt !== null && firstFix !== undefined && firstFix > nvdAnalysedAt ? firstFix + between(h(26), 1, 20) * SNAPSHOT_MS : null;
    return {
      id, family, event: e, eventTime, publishedAt, fixes, delays, cvss, metrics, vector: tvm ? '' : vectorString(metrics),
      severity: severityOf(cvss), severityMissing: unit(h(22)) < 0.01,
      epss: Math.round(epss * 100000) / 100000,
      exploitStages: [publicAt, verifiedAt, kitAt], exploitTypes,
      kev: inTheWild ? { dateAdded: dayStart(verifiedAt!), dueDays: unit(h(18)) < 0.8 ? 21 : 14, ransomware: unit(h(19)) < 0.2 } : null,
      vendorProject, product, otherProduct, impact, title, description, nvdAnalysedAt, nvdReanalysedAt,
    };
  }

  /** The lines a CVE affects: each with the family's share, at least one; only lines that existed then. */
  private affectedLines(family: Family, e: number, m: number, eventTime: number): Line[] {
    const existing = family.lines.filter((line) => !Number.isFinite(line.gaSlot) || line.component.schedule.time(line.gaSlot) <= eventTime);
    if (existing.length === 0) return [];
    const chosen = existing.filter((line) => unit(hash(this.seed, S.lines, family.index * 4096 + m, e, line.index)) < family.spec.lineShare);
    return chosen.length ? chosen : [existing[hash(this.seed, S.lines, family.index * 4096 + m, e, -1) % existing.length]];
  }

  private firstFixTime(family: Family, fixes: Float64Array): number | undefined {
    let first: number | undefined;
    family.lines.forEach((line, i) => {
      if (Number.isNaN(fixes[i])) return;
      const t = line.component.schedule.time(fixes[i]);
      if (first === undefined || t < first) first = t;
    });
    return first;
  }

  /** When the CVE is fixed on a line (ms), or undefined when it does not affect it. */
  fixTime(cve: Cve, line: Line): number | undefined {
    const fix = cve.fixes[line.familyLine];
    return Number.isNaN(fix) ? undefined : line.component.schedule.time(fix);
  }

  /** The earliest fix of a CVE on any line (ms). */
  earliestFix(cve: Cve): number | undefined {
    return this.firstFixTime(cve.family, cve.fixes);
  }

  /**
   * CVEs of event e that affect a line, with the release fixing each; `delayed` only those fixed
   * later than the family's (a device scanning old events needs only these).
   */
  lineEvent(line: Line, e: number): { all: LineCve[]; delayed: LineCve[] } {
    const key = line.index * 1_000_003 + e + 500_000;
    let entry = this.lineEventCache.get(key);
    if (!entry) {
      const all: LineCve[] = [];
      const delayed: LineCve[] = [];
      for (const cve of this.eventCves(line.component.family, e)) {
        const fix = cve.fixes[line.familyLine];
        if (Number.isNaN(fix)) continue;
        all.push({ cve, fix });
        if (cve.delays[line.familyLine]) delayed.push({ cve, fix });
      }
      entry = { all, delayed };
      this.lineEventCache.set(key, entry);
    }
    return entry;
  }

  /**
   * Every CVE a line at release r is exposed to at time t (published by then, fixed by a later
   * release), in a stable order.
   */
  *exposures(line: Line, r: number, t: number): Generator<LineCve> {
    const component = line.component;
    const events = component.family.events;
    const released = component.schedule.time(r);
    const last = events.latest(t + MAX_EARLY_DISCLOSURE * SNAPSHOT_MS);
    // Events this old can only matter through a delayed fix.
    const recent = events.firstAtOrAfter(released - component.lagMs + 1);
    if (component.maxDelayMs > component.lagMs) {
      for (let e = Math.max(component.family.firstEvent, events.firstAtOrAfter(released - component.maxDelayMs)); e < recent; e++) {
        for (const entry of this.lineEvent(line, e).delayed) if (entry.fix > r && entry.cve.publishedAt <= t) yield entry;
      }
    }
    for (let e = Math.max(component.family.firstEvent, recent); e <= last; e++) {
      for (const entry of this.lineEvent(line, e).all) if (entry.fix > r && entry.cve.publishedAt <= t) yield entry;
    }
  }

  /** The CVEs release j of a line fixes (its advisory's CVEs), memoised. */
  fixesOf(line: Line, j: number): Cve[] {
    const key = line.index * 1_000_003 + j + 500_000;
    let list = this.fixesCache.get(key);
    if (!list) {
      const component = line.component;
      const events = component.family.events;
      const previous = component.schedule.time(component.schedule.back(j, 1));
      list = [];
      for (let e = Math.max(component.family.firstEvent, events.firstAtOrAfter(previous - component.maxDelayMs)); events.time(e) <= component.schedule.time(j); e++) {
        for (const entry of this.lineEvent(line, e).all) if (entry.fix === j) list.push(entry.cve);
      }
      this.fixesCache.set(key, list);
    }
    return list;
  }

  /** Whether release j of a line is a security update: it fixes at least one CVE there (only those have advisories). */
  isSecurityRelease(line: Line, j: number): boolean {
    return this.lineExists(line, j) && this.fixesOf(line, j).length > 0;
  }

  /** The newest security release of a line at time t, or undefined. */
  newestSecurityRelease(line: Line, t: number): number | undefined {
    let j = line.component.schedule.latest(t);
    for (let steps = 0; steps < 60 && this.lineExists(line, j); steps++, j = line.component.schedule.back(j, 1)) {
      if (this.isSecurityRelease(line, j)) return j;
    }
    return undefined;
  }

  /** The security release before j on the same line: what j's update supersedes. */
  previousSecurityRelease(line: Line, j: number): number | undefined {
    let p = line.component.schedule.back(j, 1);
    for (let steps = 0; steps < 60 && this.lineExists(line, p); steps++, p = line.component.schedule.back(p, 1)) {
      if (this.isSecurityRelease(line, p)) return p;
    }
    return undefined;
  }

  /** The CVEs of a line whose facts change within (from, to]: published, fixed, exploited. */
  *changingOnLine(line: Line, from: number, to: number): Generator<LineCve> {
    const component = line.component;
    const events = component.family.events;
    const first = Math.max(component.family.firstEvent, events.firstAtOrAfter(from - component.maxDelayMs - 90 * SNAPSHOT_MS));
    const last = events.latest(to + MAX_EARLY_DISCLOSURE * SNAPSHOT_MS);
    for (let e = first; e <= last; e++) {
      for (const entry of this.lineEvent(line, e).all) {
        const { cve } = entry;
        const fixed = component.schedule.time(entry.fix);
        const within = (at: number | null) => at !== null && at > from && at <= to;
        if (within(cve.publishedAt) || (cve.publishedAt <= from && (within(fixed) || cve.exploitStages.some(within)))) yield entry;
      }
    }
  }

  /** Every CVE of the knowledge base published by time t, in a stable order. */
  *catalog(t: number): Generator<Cve> {
    for (const family of this.families) {
      const last = family.events.latest(t + MAX_EARLY_DISCLOSURE * SNAPSHOT_MS);
      for (let e = family.firstEvent; e <= last; e++) {
        for (const cve of this.eventCves(family, e)) if (cve.publishedAt <= t) yield cve;
      }
    }
  }

  findCve(id: string, t: number): Cve | undefined {
    if (t > this.generatedUntil) {
      for (const _cve of this.catalog(t)) { /* generating fills byId */ }
      this.generatedUntil = t;
    }
    const cve = this.byId.get(id.toUpperCase());
    return cve && cve.publishedAt <= t ? cve : undefined;
  }

  // ---- facts that move with time --------------------------------------------------------------

  exploitLevel(cve: Cve, t: number): 'NoExploit' | 'ExploitIsPublic' | 'ExploitIsVerified' | 'ExploitIsInKit' {
    const [pub, verified, kit] = cve.exploitStages;
    if (kit !== null && kit <= t) return 'ExploitIsInKit';
    if (verified !== null && verified <= t) return 'ExploitIsVerified';
    if (pub !== null && pub <= t) return 'ExploitIsPublic';
    return 'NoExploit';
  }

  /** Latest change to a CVE's Defender record visible at t. */
  cveUpdatedAt(cve: Cve, t: number): number {
    let last = cve.publishedAt;
    const candidates = [...cve.exploitStages];
    cve.family.lines.forEach((line) => candidates.push(this.fixTime(cve, line) ?? null));
    for (const at of candidates) {
      if (at !== null && at <= t && at > cve.publishedAt) last = Math.max(last, at);
    }
    return last;
  }

  /** CISA KEV's entry for a CVE at time t. */
  kevEntry(cve: Cve, t: number): { dateAdded: string; dueDate: string; ransomware: boolean } | null {
    if (!cve.kev || cve.kev.dateAdded > t) return null;
    return { dateAdded: isoDate(cve.kev.dateAdded), dueDate: isoDate(cve.kev.dateAdded + cve.kev.dueDays * DAY_MS), ransomware: cve.kev.ransomware };
  }

}

function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** A bijection of [0, SERIAL_SPACE) onto the 4- and 5-digit serials 1000..99999. */
function permuteSerial(n: number, seed: number): number {
  return 1000 + ((n * 7919 + (seed % SERIAL_SPACE)) % SERIAL_SPACE);
}

function impactOf(m: CvssMetrics): string {
  if (m.C === 'H' && m.I === 'H' && m.AV === 'N') return 'Remote Code Execution';
  if (m.C === 'H' && m.I === 'H') return 'Elevation of Privilege';
  if (m.S === 'C' && m.UI === 'R') return 'Spoofing';
  if (m.C !== 'N' && m.I === 'N' && m.A === 'N') return 'Information Disclosure';
  if (m.C === 'N' && m.I === 'N') return 'Denial of Service';
  return 'Security Feature Bypass';
}

const SUBSYSTEMS: Record<string, readonly string[]> = {
  windows: ['Windows Kernel', 'Windows Win32k', 'Windows SMB', 'Windows Hyper-V', 'Windows Common Log File System Driver', 'Windows Remote Desktop Services',
    'Windows Lightweight Directory Access Protocol (LDAP)', 'Windows Kerberos', 'Windows Telephony Service', 'Windows Mark of the Web'],
  dotnet: ['.NET Framework', '.NET and Visual Studio'],
  office: ['Microsoft Excel', 'Microsoft Word', 'Microsoft Outlook', 'Microsoft Office'],
  chromium: ['Chromium V8', 'Chromium Blink', 'Chromium Skia', 'Chromium ANGLE', 'Chromium Mojo'],
  'linux-kernel': ['Linux kernel netfilter', 'Linux kernel io_uring', 'Linux kernel ext4', 'Linux kernel KVM'],
};
