// The tunable parts of the risk score (README, "Risk score"): the weight of each exploit level, and
// the criticality of RBAC groups (a remediation's score is multiplied by the highest criticality of
// its devices' groups; 1 unless set). Kept in the setting table; the sync reads the cached copy.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { SettingsInputError } from '../users/security-settings.js';
import { EXPLOIT_LEVELS, EXPLOIT_WEIGHT, type ExploitLevel } from './risk.js';

export interface GroupCriticality {
  connectionId: string;
  rbacGroupId: number;
  criticality: number;
}

export interface RiskSettings {
  exploitWeights: Record<ExploitLevel, number>;
  groupCriticality: GroupCriticality[];
}

export const RISK_DEFAULTS: RiskSettings = { exploitWeights: EXPLOIT_WEIGHT, groupCriticality: [] };
const WEIGHT = { min: 0.1, max: 10 };
const CRITICALITY = { min: 0.1, max: 10 };
const MAX_GROUPS = 1000;
const KEY = 'risk';

const inRange = (value: unknown, { min, max }: { min: number; max: number }) => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

function validWeights(weights: Partial<Record<ExploitLevel, number>>, before: Record<ExploitLevel, number>): Record<ExploitLevel, number> {
  const after = { ...before };
  for (const [level, weight] of Object.entries(weights)) {
    if (!EXPLOIT_LEVELS.includes(level as ExploitLevel)) throw new SettingsInputError(`exploitWeights.${level}`, `There is no exploit level ${level}: the levels are ${EXPLOIT_LEVELS.join(', ')}.`);
    if (!inRange(weight, WEIGHT)) throw new SettingsInputError(`exploitWeights.${level}`, `An exploit weight is a number from ${WEIGHT.min} to ${WEIGHT.max}.`);
    after[level as ExploitLevel] = weight;
  }
  for (let i = 1; i < EXPLOIT_LEVELS.length; i++) {
    const [lower, higher] = [EXPLOIT_LEVELS[i - 1], EXPLOIT_LEVELS[i]];
    if (after[higher] < after[lower]) {
      throw new SettingsInputError(`exploitWeights.${higher}`, `The ${higher} weight (${after[higher]}) is below the ${lower} weight (${after[lower]}): KEV > in kit > verified > public > none.`);
    }
  }
  return after;
}

function validGroups(groups: unknown): GroupCriticality[] {
  if (!Array.isArray(groups) || groups.length > MAX_GROUPS) throw new SettingsInputError('groupCriticality', `groupCriticality is a list of at most ${MAX_GROUPS} RBAC groups.`);
  const seen = new Set<string>();
  return groups.map((group: Partial<GroupCriticality>, i) => {
    if (typeof group?.connectionId !== 'string' || !group.connectionId || !Number.isInteger(group.rbacGroupId)) {
      throw new SettingsInputError(`groupCriticality[${i}]`, 'Each RBAC group needs its connectionId and Defender\'s rbacGroupId.');
    }
    if (!inRange(group.criticality, CRITICALITY)) throw new SettingsInputError(`groupCriticality[${i}].criticality`, `A criticality is a number from ${CRITICALITY.min} to ${CRITICALITY.max} (1 is normal).`);
    const key = `${group.connectionId}/${group.rbacGroupId}`;
    if (seen.has(key)) throw new SettingsInputError(`groupCriticality[${i}]`, `RBAC group ${group.rbacGroupId} of connection ${group.connectionId} is listed twice.`);
    seen.add(key);
    return { connectionId: group.connectionId, rbacGroupId: group.rbacGroupId!, criticality: group.criticality! };
  });
}

export function createRiskSettings(db: Kysely<Database>) {
  let cached: RiskSettings = RISK_DEFAULTS;

  return {
    /** Reads the stored settings into the cache (at start). */
    async load(): Promise<RiskSettings> {
      const row = await db.selectFrom('setting').select('value').where('key', '=', KEY).executeTakeFirst();
      const stored = row ? JSON.parse(row.value) as Partial<RiskSettings> : {};
      cached = { exploitWeights: { ...EXPLOIT_WEIGHT, ...stored.exploitWeights }, groupCriticality: stored.groupCriticality ?? [] };
      return cached;
    },

    /** The settings in effect (synchronous: the sync's commit reads them). */
    current: (): RiskSettings => cached,

    /** Validates and stores a change; answers the settings after it and what changed. */
    async update(change: { exploitWeights?: Partial<Record<ExploitLevel, number>>; groupCriticality?: unknown }): Promise<{ settings: RiskSettings; changes: Record<string, { from: unknown; to: unknown }> }> {
      const before = cached;
      const after: RiskSettings = {
        exploitWeights: change.exploitWeights ? validWeights(change.exploitWeights, before.exploitWeights) : before.exploitWeights,
        groupCriticality: change.groupCriticality === undefined ? before.groupCriticality : validGroups(change.groupCriticality),
      };
      await db.insertInto('setting').values({ key: KEY, value: JSON.stringify(after) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(after) })).execute();
      cached = after;
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const key of ['exploitWeights', 'groupCriticality'] as const) {
        if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes[key] = { from: before[key], to: after[key] };
      }
      return { settings: after, changes };
    },
  };
}

export type RiskSettingsStore = ReturnType<typeof createRiskSettings>;
