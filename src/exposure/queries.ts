// The exposure reads the API serves, over either store: the embedded one (its main connection,
// with findings.db attached) or PostgreSQL. Both answer the same queries (finding-sql.ts holds
// where their findings differ); what differs besides is said by an ExposureSource.

import { createKnowledge, type Knowledge } from '../content/knowledge.js';
import type { Store } from '../store/database.js';
import type { ContentReplica } from '../store/postgres/content-replica.js';
import type { PostgresStore } from '../store/postgres/store.js';
import type { Database } from '../store/schema.js';
import { sql, type Kysely } from 'kysely';
import { DataVersionCache } from './cache.js';
import type { ArrayRows } from './paging.js';
import { createDeviceQueries } from './devices.js';
import { findingCsvChunks } from './finding-export.js';
import { createFindingQueries, type FindingFilter, type FindingQueries } from './findings.js';
import { createOverviewQueries } from './overview.js';
import type { TenantScope } from './scope.js';
import { createSoftwareQueries } from './software.js';
import { createVulnerabilityQueries } from './vulnerabilities.js';
import { createRemediationQueries, type RemediationQueries } from '../remediation/queries.js';
import { createSlaQueries, type SlaQueries } from '../remediation/sla.js';
import type { SlaWindows } from './sla-state.js';

export interface ExposureSource {
  db: Kysely<Database>;
  /** Moves whenever a sync commits to the exposure copy. */
  dataVersion(): number | Promise<number>;
  arrays: ArrayRows;
  /** The patch knowledge that says each finding's fix, and what brings it up to date first (PostgreSQL's replica). */
  knowledge: Knowledge;
  knowledgeCurrent?: () => Promise<void>;
  /** The findings CSV of a checked filter (FindingQueries.check). */
  findingCsv(findings: FindingQueries, scope: TenantScope, filter: FindingFilter): AsyncGenerator<Uint8Array>;
  /** What the store has no read models for yet (issue 15: the remediation and SLA read models on PostgreSQL). */
  lacks?: string;
}

/** The embedded store: a findings CSV is read and formatted on worker threads over findings.db. */
export function embeddedExposure(store: Store): ExposureSource {
  return {
    db: store.db,
    dataVersion: () => store.sqlite.pragma('vuln.data_version', { simple: true }) as number,
    arrays: async (query) => store.sqlite.prepare(query.sql).raw(true).all(...query.parameters) as unknown[][],
    knowledge: createKnowledge(store.sqlite),
    findingCsv(findings, scope, filter) {
      const ids = findings.inIdOrder(filter)
        ? store.sqlite.prepare('SELECT min(id), max(id) + 1 FROM vuln.finding').raw(true).get() as [number | null, number | null] : null;
      return findingCsvChunks({ findingsFile: store.findingsFile }, scope, filter, ids?.[0] != null ? ids as [number, number] : null);
    },
  };
}

/** PostgreSQL: a findings CSV is read and formatted on worker threads, each over a connection of its own. */
export function postgresExposure(store: PostgresStore, replica: ContentReplica): ExposureSource {
  return {
    db: store.db,
    dataVersion: () => store.dataVersion(),
    arrays: (query) => store.arrays(query),
    knowledge: createKnowledge(replica.reader),
    knowledgeCurrent: () => replica.catchUp(),
    async *findingCsv(findings, scope, filter) {
      const [ids] = findings.inIdOrder(filter) ? await store.arrays(sql`SELECT min(id), max(id) + 1 FROM vuln.finding`.compile(store.db)) : [];
      yield* findingCsvChunks({ databaseUrl: store.url }, scope, filter, ids?.[0] != null ? ids as [number, number] : null);
    },
    lacks: 'the remediation and SLA figures',
  };
}

/** Thrown by the reads a store cannot answer yet (answered 501 with the message). */
export class NotOnThisStoreError extends Error {}

/** Stands in for a service whose tables the store lacks: each of its methods throws a NotOnThisStoreError. */
function lacking<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => () => {
      throw new NotOnThisStoreError(`The PostgreSQL store does not keep ${what} yet; the embedded store does.`);
    },
  });
}

export function createExposureQueries(source: ExposureSource, scheduler: boolean, windows: SlaWindows) {
  const { db } = source;
  const cache = new DataVersionCache(source.dataVersion);
  const vulnerabilities = createVulnerabilityQueries(db, cache);
  const devices = createDeviceQueries(db, cache);
  const software = createSoftwareQueries(db, cache);
  const findings = {
    ...createFindingQueries(db, cache, source.arrays, source.knowledge, source.knowledgeCurrent),
    /** The findings CSV; throws at once on a bad parameter. */
    csvChunks(scope: TenantScope, filter: FindingFilter): AsyncGenerator<Uint8Array> {
      findings.check(scope, filter);
      return source.findingCsv(findings, scope, filter);
    },
  };
  const sla = createSlaQueries({ db, cache, windows });
  return {
    db, vulnerabilities, devices, software, findings,
    remediations: source.lacks ? lacking<RemediationQueries>(source.lacks) : createRemediationQueries(db, cache, windows),
    sla: source.lacks ? { ...sla, summary: lacking<SlaQueries>(source.lacks).summary } : sla,
    overview: createOverviewQueries({ db, cache, scheduler, vulnerabilities, devices, software }),
  };
}

export type ExposureQueries = ReturnType<typeof createExposureQueries>;
