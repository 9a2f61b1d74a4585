// Ground truth for patch knowledge: for a finding (device × software × CVE) at a snapshot, what
// SitePatch must answer once it has imported the emulator's vendor feeds. It is computed from the
// emulator's own model, never from SitePatch's code, and only from facts the feeds state at that
// snapshot (the feeds describe the world as of the emulator's latest snapshot).
//
// Contract (`patchTruth`, and GET /_emulator/tenants/{tenant}/patch-truth):
//   status      'update'       a vendor update fixes it: Windows (KB, MSRC CVRF), RHEL (RHSA, Red Hat
//                              VEX), Ubuntu (USN, Ubuntu OSV);
//               'version'      a version fixes it: third-party software and macOS (NVD's
//                              versionEndExcluding), Microsoft Edge (MSRC's FixedBuild);
//               'no_known_fix' no feed names a fix.
//   update      {kind: 'kb' | 'rhsa' | 'usn', id, title}: the update that first fixed the CVE on the
//               device's line (the KB is bare, as Defender's RecommendedSecurityUpdateId is; Defender
//               names the same update). Null unless status is 'update'.
//   deployable  {id, title}: the newest update of the device's line at the snapshot that includes
//               the fix. For cumulative Windows updates, the newest cumulative update of the build line
//               that the CVRF documents list (one that fixes at least one CVE there); for .NET Framework
//               and Office, the newest update of the branch, which supersedes the fixing one through the
//               Supercedence chain; for RHEL and Ubuntu, the newest advisory of the package on that
//               stream. Null unless status is 'update'.
//   fixedVersion the first fixed version: the CVRF FixedBuild (10.0.22631.4602), the fixed EVR of the
//               device's stream (1:3.0.7-28.el9_4), the fixed dpkg version of its Ubuntu release, or
//               NVD's versionEndExcluding (131.0.6778.108). Null for 'no_known_fix'.
//   reason      for 'no_known_fix' only: 'no_fix_released' (the vendor has not shipped one: not in
//               CVRF yet; VEX "Affected" or "Deferred"; OSV without a fixed event; NVD's analysis
//               names only the last vulnerable version), 'will_not_fix' (VEX no_fix_planned), or
//               'not_analysed' (NVD has not analysed the CVE yet: "fixed version not yet known", which
//               is not "no fix"), or 'not_covered' (Defender's own TVM-… ids, software no emulated feed covers).
//   kev         {dateAdded, dueDate} when CISA's KEV catalog lists the CVE at the snapshot, else null.
//   requiresUbuntuPro  true when the fix is only in Ubuntu Pro (ESM Apps): deployable only with a
//               subscription.
// Titles are informative (CVRF's monthly title, Red Hat's advisory title, the USN summary); compare
// kinds and ids.

import { redHatSeverity } from '../feeds/feed.js';
import { nvdAnalysis, nvdRange } from '../feeds/nvd.js';
import type { Cve, Line, World } from '../world/world.js';
import { monthlyReleaseTitle } from './records.js';
import type { Finding, Tenant } from './tenant.js';

export interface PatchTruth {
  status: 'update' | 'version' | 'no_known_fix';
  update: { kind: 'kb' | 'rhsa' | 'usn'; id: string; title: string } | null;
  deployable: { id: string; title: string } | null;
  fixedVersion: string | null;
  reason: 'no_fix_released' | 'will_not_fix' | 'not_analysed' | 'not_covered' | null;
  kev: { dateAdded: string; dueDate: string } | null;
  requiresUbuntuPro: boolean;
}

function noFix(reason: NonNullable<PatchTruth['reason']>, kev: PatchTruth['kev']): PatchTruth {
  return { status: 'no_known_fix', update: null, deployable: null, fixedVersion: null, reason, kev, requiresUbuntuPro: false };
}

/** The title of an update, in its vendor's words. */
function updateTitle(world: World, line: Line, j: number): string {
  const source = line.component.spec.source ?? line.component.spec.key;
  const cves = world.fixesOf(line, j);
  switch (line.component.spec.update) {
    case 'rhsa': return `${redHatSeverity(Math.max(0, ...cves.map((c) => c.cvss)))}: ${source} security update`;
    case 'usn': return `${source} ${cves.length > 1 ? 'vulnerabilities' : 'vulnerability'}`;
    default: return monthlyReleaseTitle(world.releaseTime(line.component, j));
  }
}

/** The truth for a CVE open on a line, at time t (ms). */
export function truthFor(world: World, line: Line, cve: Cve, t: number): PatchTruth {
  const kevEntry = world.kevEntry(cve, t);
  const kev = kevEntry && { dateAdded: kevEntry.dateAdded, dueDate: kevEntry.dueDate };
  const spec = line.component.spec;
  if (cve.id.startsWith('TVM-') || spec.feed === 'none') return noFix('not_covered', kev);
  const fix = cve.fixes[line.familyLine];
  const shipped = !Number.isNaN(fix) && world.releaseTime(line.component, fix) <= t;

  if (spec.feed === 'nvd') {
    const analysis = nvdAnalysis(cve, t);
    if (analysis === undefined) return noFix('not_analysed', kev);
    const range = nvdRange(world, cve, line, analysis);
    if (!range?.endExcluding) return noFix('no_fix_released', kev);
    return { status: 'version', update: null, deployable: null, fixedVersion: range.endExcluding, reason: null, kev, requiresUbuntuPro: false };
  }
  if (!shipped) {
    return noFix(spec.feed === 'redhat' && cve.delays[line.familyLine] === 'will_not_fix' ? 'will_not_fix' : 'no_fix_released', kev);
  }
  const fixedVersion = world.version(line, fix);
  if (spec.update === 'none') {
    // Edge: MSRC lists it with the fixed build and release notes, no KB.
    return { status: 'version', update: null, deployable: null, fixedVersion, reason: null, kev, requiresUbuntuPro: false };
  }
  const newest = world.newestSecurityRelease(line, t) ?? fix;
  const kind = spec.update as 'kb' | 'rhsa' | 'usn';
  return {
    status: 'update',
    update: { kind, id: world.updateId(line, fix)!, title: updateTitle(world, line, fix) },
    deployable: { id: world.updateId(line, newest)!, title: updateTitle(world, line, newest) },
    fixedVersion,
    reason: null,
    kev,
    requiresUbuntuPro: spec.feed === 'ubuntu' && spec.ubuntuPro === true,
  };
}

/** What SitePatch must answer for a finding at snapshot k. */
export function patchTruth(tenant: Tenant, finding: Finding, k: number): PatchTruth {
  return truthFor(tenant.world, finding.line, finding.cve, tenant.snapshotTime(k));
}

export interface TruthRow {
  deviceId: string;
  softwareVendor: string;
  softwareName: string;
  softwareVersion: string;
  cveId: string;
  fix: PatchTruth;
}

/** Every finding of snapshot k (of one device, or of one CVE, when asked), with its truth. */
export function* truthRows(tenant: Tenant, k: number, filter: { deviceId?: string; cveId?: string } = {}): Generator<TruthRow> {
  const only = filter.deviceId === undefined ? undefined : tenant.deviceIndexOf(filter.deviceId);
  if (filter.deviceId !== undefined && only === undefined) return;
  const from = only ?? 0;
  const to = only === undefined ? tenant.deviceCount : only + 1;
  const cveId = filter.cveId?.toUpperCase();
  for (let i = from; i < to; i++) {
    for (const f of tenant.deviceFindings(i, k)) {
      if (cveId !== undefined && f.cve.id !== cveId) continue;
      yield { deviceId: f.device.id, softwareVendor: f.vendor, softwareName: f.name, softwareVersion: f.version, cveId: f.cve.id, fix: patchTruth(tenant, f, k) };
    }
  }
}
