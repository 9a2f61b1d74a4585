// The exposure reads the API serves, over the store's main connection (findings.db attached).

import type { Store } from '../store/database.js';
import { DataVersionCache } from './cache.js';
import type { ArrayRows } from './paging.js';
import { createDeviceQueries } from './devices.js';
import { createFindingQueries } from './findings.js';
import { createOverviewQueries } from './overview.js';
import { createSoftwareQueries } from './software.js';
import { createVulnerabilityQueries } from './vulnerabilities.js';

export function createExposureQueries(store: Store, scheduler: boolean) {
  const { db } = store;
  const cache = new DataVersionCache(() => store.sqlite.pragma('vuln.data_version', { simple: true }) as number);
  const arrays: ArrayRows = async (query) => store.sqlite.prepare(query.sql).raw(true).all(...query.parameters) as unknown[][];
  const vulnerabilities = createVulnerabilityQueries(db, cache);
  const devices = createDeviceQueries(db, cache);
  const software = createSoftwareQueries(db, cache);
  return {
    db, vulnerabilities, devices, software, findings: createFindingQueries(db, cache, arrays),
    overview: createOverviewQueries({ db, cache, scheduler, vulnerabilities, devices, software }),
  };
}

export type ExposureQueries = ReturnType<typeof createExposureQueries>;
