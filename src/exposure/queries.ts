// The exposure reads the API serves, over the store's main connection (findings.db attached).

import { createKnowledge } from '../content/knowledge.js';
import type { Store } from '../store/database.js';
import { DataVersionCache } from './cache.js';
import type { ArrayRows } from './paging.js';
import { createDeviceQueries } from './devices.js';
import { findingCsvChunks } from './finding-export.js';
import { createFindingQueries, type FindingFilter } from './findings.js';
import { createOverviewQueries } from './overview.js';
import type { TenantScope } from './scope.js';
import { createSoftwareQueries } from './software.js';
import { createVulnerabilityQueries } from './vulnerabilities.js';
import { createRemediationQueries } from '../remediation/queries.js';
import { createSlaQueries } from '../remediation/sla.js';
import type { SlaWindows } from './sla-state.js';

export function createExposureQueries(store: Store, scheduler: boolean, windows: SlaWindows) {
  const { db } = store;
  const cache = new DataVersionCache(() => store.sqlite.pragma('vuln.data_version', { simple: true }) as number);
  const arrays: ArrayRows = async (query) => store.sqlite.prepare(query.sql).raw(true).all(...query.parameters) as unknown[][];
  const vulnerabilities = createVulnerabilityQueries(db, cache);
  const devices = createDeviceQueries(db, cache);
  const software = createSoftwareQueries(db, cache);
  const findings = {
    ...createFindingQueries(db, cache, arrays, createKnowledge(store.sqlite)),
    /** The findings CSV, read and formatted on a worker thread; throws at once on a bad parameter. */
    csvChunks(scope: TenantScope, filter: FindingFilter): AsyncGenerator<Uint8Array> {
      findings.check(scope, filter);
      const ids = findings.inIdOrder(filter)
        ? store.sqlite.prepare('SELECT min(id), max(id) + 1 FROM vuln.finding').raw(true).get() as [number | null, number | null] : null;
      return findingCsvChunks(store.findingsFile, scope, filter, ids?.[0] != null ? ids as [number, number] : null);
    },
  };
  return {
    db, vulnerabilities, devices, software, findings, remediations: createRemediationQueries(db, cache, windows), sla: createSlaQueries({ db, cache, windows }),
    overview: createOverviewQueries({ db, cache, scheduler, vulnerabilities, devices, software }),
  };
}

export type ExposureQueries = ReturnType<typeof createExposureQueries>;
