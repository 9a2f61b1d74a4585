// The exposure reads the API serves, over the store's main connection (findings.db attached).

import type { Store } from '../store/database.js';
import { createDeviceQueries } from './devices.js';
import { createFindingQueries } from './findings.js';
import { createOverviewQueries } from './overview.js';
import { createSoftwareQueries } from './software.js';
import { createVulnerabilityQueries } from './vulnerabilities.js';

export function createExposureQueries(store: Store, scheduler: boolean) {
  const { db } = store;
  const vulnerabilities = createVulnerabilityQueries(db);
  const devices = createDeviceQueries(db);
  const software = createSoftwareQueries(db);
  // SQLite's data_version of the attached findings.db moves whenever another connection (the sync's) commits to it.
  const dataVersion = () => store.sqlite.pragma('vuln.data_version', { simple: true }) as number;
  return {
    db, vulnerabilities, devices, software, findings: createFindingQueries(db),
    overview: createOverviewQueries({ db, dataVersion, scheduler, vulnerabilities, devices, software }),
  };
}

export type ExposureQueries = ReturnType<typeof createExposureQueries>;
