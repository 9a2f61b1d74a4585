// Where the two stores lay findings out differently, for the queries that read them. On
// PostgreSQL a finding row carries its tenant, the partition key, and a query names it so that only
// the tenant's partitions are read; a CVE's findings come from an index on (tenant, CVE). The
// embedded store's findings have no tenant column (their device has it), and a CVE's findings are
// kept in id order in the cve_finding table (src/sync/exposure-tally.ts).

import { sql, type Kysely, type RawBuilder } from 'kysely';
import { isPostgres } from '../store/dialect.js';
import { inTenants, type TenantScope } from './scope.js';

export interface CveFindings {
  /** The FROM clause: the findings as `f`. */
  from: RawBuilder<unknown>;
  /** The condition that selects the CVE's findings of the scope. */
  where: RawBuilder<boolean>;
  /** The finding id, in the column the rows are ordered by. */
  id: RawBuilder<unknown>;
}

export function findingLayout(db: Kysely<any>) {
  const postgres = isPostgres(db);
  return {
    /** The join of a finding `f` to its device `d`; on PostgreSQL it also names the partition, whichever side a plan starts from. */
    deviceOf: postgres ? sql<boolean>`d.ref = f.device_ref AND d.tenant_ref = f.tenant_ref` : sql<boolean>`d.ref = f.device_ref`,

    /**
     * The findings of the scope's tenants, for a query over `f` joined to its device `d`. On SQLite
     * the unary + keeps the planner from starting at the tenant's devices and sorting their findings.
     */
    inScope: (scope: TenantScope): RawBuilder<boolean> => (postgres ? inTenants('f.tenant_ref', scope) : sql<boolean>`+${inTenants('d.tenant_ref', scope)}`),

    /** The findings of one device. */
    ofDevice: (device: { ref: number; tenant_ref: number }): RawBuilder<boolean> => (postgres
      ? sql<boolean>`f.tenant_ref = ${device.tenant_ref} AND f.device_ref = ${device.ref}`
      : sql<boolean>`f.device_ref = ${device.ref}`),

    /** The findings of the CVE `cveRef` (an integer or a subquery) in the scope's tenants. */
    ofCve(scope: TenantScope, cveRef: number | RawBuilder<unknown>): CveFindings {
      return postgres
        ? { from: sql`vuln.finding f`, where: sql<boolean>`${inTenants('f.tenant_ref', scope)} AND f.cve_ref = ${cveRef}`, id: sql`f.id` }
        : { from: sql`vuln.cve_finding cf JOIN vuln.finding f ON f.id = cf.finding_id`, where: sql<boolean>`${inTenants('cf.tenant_ref', scope)} AND cf.cve_ref = ${cveRef}`, id: sql`cf.finding_id` };
    },
  };
}

export type FindingLayout = ReturnType<typeof findingLayout>;
