// When a component ships its releases. Release j is an integer slot: j = 0 is the latest slot at or
// before the world's start, negative slots lie before it. Some schedules leave slots empty (a month
// without a .NET update, a month without an out-of-band update), so callers walk existing releases
// with latest/next/previous. Every answer is a pure function of the seed and the slot.

import { HOUR_MS, SNAPSHOT_MS, monthIndex, oracleCpu, patchTuesday, quarterIndex } from './calendar.js';
import { hash, unit } from './random.js';

/** Releases are never looked for further than this from a starting slot. */
const MAX_WALK = 400;

export interface Schedule {
  /** Release time of slot j (ms), whether or not a release exists there. */
  time(j: number): number;
  exists(j: number): boolean;
  /** The latest existing release at or before time t (ms). */
  latest(t: number): number;
  /** The first existing release at or after time t. */
  firstAtOrAfter(t: number): number;
  /** The existing release n releases before (n < 0: after) the existing release j. */
  back(j: number, n: number): number;
  /** The first slot (existing or not) at or after time t. */
  firstSlot(t: number): number;
  /** Upper bound on release slots in one calendar year (CVE serials are allocated from it). */
  readonly slotsPerYear: number;
  /** The calendar month a slot belongs to (for monthly documents such as MSRC's). */
  month(j: number): number;
  /** Whether slot j is an out-of-band release (monthly schedules only). */
  outOfBand(j: number): boolean;
}

abstract class BaseSchedule implements Schedule {
  abstract time(j: number): number;
  abstract exists(j: number): boolean;
  /** A slot near time t (the walks correct it). */
  abstract slotAt(t: number): number;
  abstract readonly slotsPerYear: number;

  /** Devices ask for the same few times (their update snapshots) over and over. */
  private readonly latestCache = new Map<number, number>();

  latest(t: number): number {
    let j = this.latestCache.get(t);
    if (j === undefined) {
      j = this.slotAt(t) + 2;
      while (this.time(j) > t) j--;
      for (let steps = 0; steps < MAX_WALK && !this.exists(j); steps++) j--;
      if (this.latestCache.size >= 1 << 14) this.latestCache.clear();
      this.latestCache.set(t, j);
    }
    return j;
  }

  firstSlot(t: number): number {
    let j = this.slotAt(t) - 2;
    while (this.time(j) < t) j++;
    return j;
  }

  firstAtOrAfter(t: number): number {
    let j = this.firstSlot(t);
    for (let steps = 0; steps < MAX_WALK && !this.exists(j); steps++) j++;
    return j;
  }

  back(j: number, n: number): number {
    const step = n > 0 ? -1 : 1;
    for (let left = Math.abs(n); left > 0;) {
      j += step;
      if (this.exists(j)) left--;
    }
    return j;
  }

  month(j: number): number {
    return monthIndex(this.time(j));
  }

  outOfBand(_j: number): boolean {
    return false;
  }
}

/** A release every `periodSnapshots` snapshots, an hour before a snapshot boundary. */
export class PeriodicSchedule extends BaseSchedule {
  readonly slotsPerYear: number;
  private readonly anchor: number;
  private readonly period: number;

  constructor(start: number, periodSnapshots: number, phaseSnapshots: number) {
    super();
    this.period = periodSnapshots * SNAPSHOT_MS;
    this.anchor = start - phaseSnapshots * SNAPSHOT_MS - HOUR_MS;
    this.slotsPerYear = Math.ceil((366 * 24 * HOUR_MS) / this.period) + 1;
  }

  time(j: number): number {
    return this.anchor + j * this.period;
  }

  exists(): boolean {
    return true;
  }

  slotAt(t: number): number {
    return Math.floor((t - this.anchor) / this.period);
  }
}

export interface MonthlyOptions {
  /** Share of months with a release on Patch Tuesday (1: every month). */
  monthly: number;
  /** Share of months that also get an out-of-band release, some days after Patch Tuesday. */
  outOfBand: number;
  salt: number;
}

/** Releases on Patch Tuesday, and now and then an out-of-band one: slot 2m is month m's, 2m + 1 its out-of-band. */
export class PatchTuesdaySchedule extends BaseSchedule {
  readonly slotsPerYear = 24;
  private readonly firstMonth: number;

  constructor(start: number, private readonly seed: number, private readonly options: MonthlyOptions) {
    super();
    const month = monthIndex(start);
    this.firstMonth = patchTuesday(month) <= start ? month : month - 1;
  }

  override month(j: number): number {
    return this.firstMonth + Math.floor(j / 2);
  }

  override outOfBand(j: number): boolean {
    return (j & 1) === 1;
  }

  /** Release times are asked for on every finding row: calendar arithmetic once per slot. */
  private readonly times = new Map<number, number>();

  time(j: number): number {
    let at = this.times.get(j);
    if (at === undefined) {
      const tuesday = patchTuesday(this.month(j));
      at = this.outOfBand(j) ? tuesday + (3 + (hash(this.seed, this.options.salt, this.month(j), 1) % 12)) * 24 * HOUR_MS : tuesday;
      this.times.set(j, at);
    }
    return at;
  }

  exists(j: number): boolean {
    const share = this.outOfBand(j) ? this.options.outOfBand : this.options.monthly;
    return share >= 1 || unit(hash(this.seed, this.options.salt, this.month(j), this.outOfBand(j) ? 2 : 3)) < share;
  }

  slotAt(t: number): number {
    return 2 * (monthIndex(t) - this.firstMonth) + 1;
  }
}

/** Oracle's Critical Patch Updates: one release a quarter. */
export class QuarterlySchedule extends BaseSchedule {
  readonly slotsPerYear = 4;
  private readonly firstQuarter: number;

  constructor(start: number) {
    super();
    const quarter = quarterIndex(start);
    this.firstQuarter = oracleCpu(quarter) <= start ? quarter : quarter - 1;
  }

  private readonly times = new Map<number, number>();

  time(j: number): number {
    let at = this.times.get(j);
    if (at === undefined) this.times.set(j, at = oracleCpu(this.firstQuarter + j));
    return at;
  }

  exists(): boolean {
    return true;
  }

  slotAt(t: number): number {
    return quarterIndex(t) - this.firstQuarter;
  }
}
