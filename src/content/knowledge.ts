// Which update fixes a finding, from the imported patch knowledge (content.db):
//   - Windows (microsoft/windows_*): MSRC's fix for the CVE on the device's product (the MSRC
//     product named like Defender's: windows_11 is "Windows 11 …") and build line (major.minor.build;
//     Windows 11 24H2 and Server 2025 share one, with their own updates); quality updates are
//     cumulative, so the newest deployable update is the newest cumulative update of that line.
//   - other Microsoft products: the fixing KB and, non-cumulative, the newest KB that supersedes it
//     (transitively, per product id); or, for products fixed by version, that version.
//   - Red Hat (red_hat/*): the fixed EVR and RHSA of the package in the device's RHEL stream;
//     "will not fix" and "affected" are no known fix. The newest deployable is the package's newest advisory there.
//   - Ubuntu (ubuntu/*): the fixed version and USN for the release (source or binary package name), and whether only Ubuntu Pro ships it.
//   - third-party: NVD's first fixed version (versionEndExcluding) of the range holding the installed version.
//   - nothing known: Defender's own recommended update, if it names one; else no known fix, with the reason.
// KEV's dates are added to every answer. Answers are kept per distinct (software, CVE, OS) until
// the next import commits (content.db's data_version).

import type SQLite from 'better-sqlite3';
import { defenderCpeKeys } from './feeds/cpe.js';
import { compareDpkg, compareRpm, compareVendorVersion, compareWindowsBuild, versionScheme, windowsBuildLine } from './versions/index.js';

export interface FixQuery {
  vendor: string;
  name: string;
  version: string;
  cveId: string;
  osVersion: string | null;
  /** Defender's RecommendedSecurityUpdateId (a bare KB, an RHSA or USN id), if any. */
  recommendedUpdateId: string | null;
  recommendedUpdateTitle: string | null;
}

export type UpdateKind = 'kb' | 'rhsa' | 'usn' | 'defender';

export interface FindingFix {
  status: 'update' | 'version' | 'no_known_fix';
  update: { kind: UpdateKind; id: string; title: string | null } | null;
  deployable: { id: string; title: string | null } | null;
  fixedVersion: string | null;
  /** no_known_fix only: no_fix_released, will_not_fix, not_analysed (NVD has not analysed the CVE yet), not_covered. */
  reason: string | null;
  kev: { dateAdded: string; dueDate: string | null } | null;
  /** The fix ships only in Ubuntu Pro (ESM): deployable with a subscription. */
  requiresUbuntuPro: boolean;
}

const NO_FIX = (reason: string): Omit<FindingFix, 'kev'> => ({ status: 'no_known_fix', update: null, deployable: null, fixedVersion: null, reason, requiresUbuntuPro: false });
const VERSION = (fixedVersion: string): Omit<FindingFix, 'kev'> => ({ status: 'version', update: null, deployable: null, fixedVersion, reason: null, requiresUbuntuPro: false });
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `2025-Feb` → `2025-02`. */
const monthOf = (document: string) => {
  const [year, month] = document.split('-');
  const index = MONTHS.indexOf(month);
  return index < 0 ? document : `${year}-${String(index + 1).padStart(2, '0')}`;
};
const CACHED_ANSWERS = 200_000;

interface MsrcFixRow { document: string; product_id: string; kb: string | null; fixed_build: string | null; sub_type: string | null; name: string | null }

/** Defender's own hint: the fix when no feed knows the CVE for this product. */
function defenderHint(q: FixQuery): Omit<FindingFix, 'kev'> {
  const id = q.recommendedUpdateId?.trim();
  if (!id) return NO_FIX('not_covered');
  const kind: UpdateKind = /^\d+$/.test(id) ? 'kb' : /^RH[SBE]A-/i.test(id) ? 'rhsa' : /^USN-/i.test(id) ? 'usn' : 'defender';
  return { status: 'update', update: { kind, id, title: q.recommendedUpdateTitle }, deployable: null, fixedVersion: null, reason: null, requiresUbuntuPro: false };
}

export function createKnowledge(sqlite: SQLite.Database) {
  let version = -1;
  let answers = new Map<string, Omit<FindingFix, 'kev'>>();
  /**
   * Lookups many answers share (a CVE's MSRC rows, a package's newest advisory on a release, its
   * source package), each made once until the next import: a first sync asks tens of thousands.
   */
  let shared = new Map<string, unknown>();
  const remember = <T>(key: string, compute: () => T): T => {
    if (shared.has(key)) return shared.get(key) as T;
    const value = compute();
    shared.set(key, value);
    return value;
  };
  let kev = new Map<string, { dateAdded: string; dueDate: string | null }>();
  const statements = {
    msrc: sqlite.prepare(`SELECT f.document, f.product_id, f.kb, f.fixed_build, f.sub_type, p.name FROM content.msrc_fix f
      LEFT JOIN content.msrc_product p ON p.product_id = f.product_id WHERE f.cve = ?`),
    lineUpdates: sqlite.prepare(`SELECT f.document, f.product_id, f.kb, f.fixed_build, f.sub_type, p.name FROM content.msrc_fix f
      LEFT JOIN content.msrc_product p ON p.product_id = f.product_id WHERE f.fixed_build LIKE ? AND f.kb IS NOT NULL`),
    superseders: sqlite.prepare('SELECT kb FROM content.msrc_supersedence WHERE product_id = ? AND superseded_kb = ?').pluck(),
    redhat: sqlite.prepare('SELECT rhel_major, rhel_minor, stream_kind, state, reason, fixed_version, advisory FROM content.redhat_state WHERE cve = ? AND package = ?'),
    redhatSource: sqlite.prepare('SELECT source FROM content.redhat_binary WHERE binary = ?').pluck(),
    redhatNewest: sqlite.prepare(`SELECT rhel_major, rhel_minor, stream_kind, state, reason, fixed_version, advisory FROM content.redhat_state
      WHERE package = ? AND rhel_major = ? AND state = 'fixed' AND advisory IS NOT NULL AND fixed_version IS NOT NULL`),
    ubuntu: sqlite.prepare('SELECT advisory, fixed_version, pro_required FROM content.ubuntu_fix WHERE cve = ? AND package = ? AND release = ?'),
    ubuntuSource: sqlite.prepare('SELECT source_package FROM content.ubuntu_fix WHERE package = ? AND release = ? LIMIT 1').pluck(),
    ubuntuNewest: sqlite.prepare(`SELECT advisory, fixed_version FROM content.ubuntu_fix WHERE package = ? AND release = ? AND fixed_version IS NOT NULL
      AND advisory LIKE 'USN-%'`),
    nvdCve: sqlite.prepare('SELECT not_yet_known FROM content.nvd_cve WHERE cve = ?').pluck(),
    nvdRanges: sqlite.prepare('SELECT version, start_including, start_excluding, end_including, end_excluding FROM content.nvd_range WHERE cve = ? AND product_key = ?'),
  };

  /** Forgets every answer when an import has committed since. */
  function refresh(): void {
    const now = sqlite.pragma('content.data_version', { simple: true }) as number;
    if (now === version) return;
    version = now;
    answers = new Map();
    shared = new Map();
    kev = new Map((sqlite.prepare('SELECT cve, date_added, due_date FROM content.kev').all() as { cve: string; date_added: string; due_date: string | null }[])
      .map((r) => [r.cve, { dateAdded: r.date_added, dueDate: r.due_date }]));
  }

  const cumulativeTitle = (row: MsrcFixRow) => `${monthOf(row.document)} Cumulative Update for ${row.name ?? `product ${row.product_id}`} (KB${row.kb})`;

  /**
   * Whether an MSRC product is the Defender product's: `windows_11` is "Windows 11 …",
   * `windows_server_2025` "Windows Server 2025 …" (one build line can serve both, with their own updates).
   */
  const isProduct = (row: MsrcFixRow, name: string) => (row.name ?? '').toLowerCase().startsWith(name.replace(/_/g, ' '));

  /** The newest cumulative update of a product's Windows build line (by build), hotpatches aside. */
  function newestOfLine(line: string, product: string): MsrcFixRow | null {
    return remember(`line|${line}|${product}`, () => {
      let newest: MsrcFixRow | null = null;
      for (const row of statements.lineUpdates.all(`${line}.%`) as MsrcFixRow[]) {
        if (/hotpatch/i.test(row.sub_type ?? '') || !isProduct(row, product)) continue;
        if (!newest || compareWindowsBuild(row.fixed_build!, newest.fixed_build!)! > 0) newest = row;
      }
      return newest;
    });
  }

  const msrcRows = (cveId: string) => remember(`msrc|${cveId}`, () => statements.msrc.all(cveId) as MsrcFixRow[]);

  function windows(q: FixQuery): Omit<FindingFix, 'kev'> | null {
    const line = windowsBuildLine(q.version);
    if (!line) return null;
    let fix: MsrcFixRow | null = null;
    for (const row of msrcRows(q.cveId)) {
      if (!row.kb || !row.fixed_build || windowsBuildLine(row.fixed_build) !== line || /hotpatch/i.test(row.sub_type ?? '') || !isProduct(row, q.name)) continue;
      if (!fix || compareWindowsBuild(row.fixed_build, fix.fixed_build!)! < 0) fix = row;
    }
    if (!fix) return null;
    const newest = newestOfLine(line, q.name);
    return {
      status: 'update', update: { kind: 'kb', id: fix.kb!, title: cumulativeTitle(fix) },
      deployable: newest ? { id: newest.kb!, title: cumulativeTitle(newest) } : null, fixedVersion: fix.fixed_build, reason: null, requiresUbuntuPro: false,
    };
  }

  /** The newest KB that replaces `kb` on `productId`, following supersedence (non-cumulative products). */
  function newestSuperseder(productId: string, kb: string): string {
    return remember(`superseder|${productId}|${kb}`, () => {
      let current = kb;
      const seen = new Set([kb]);
      for (;;) {
        const next = (statements.superseders.all(productId, current) as string[]).filter((k) => !seen.has(k)).sort((a, b) => Number(b) - Number(a))[0];
        if (!next) return current;
        seen.add(next);
        current = next;
      }
    });
  }

  function microsoft(q: FixQuery): Omit<FindingFix, 'kev'> | null {
    const rows = msrcRows(q.cveId).filter((r) => r.kb || r.fixed_build);
    if (!rows.length) return null;
    const byKb = rows.find((r) => r.kb && r.kb === q.recommendedUpdateId?.replace(/^KB/i, '')) ?? rows.find((r) => r.kb) ?? rows[0];
    if (!byKb.kb) {
      // Fixed by version (Edge, Click-to-Run Office): the lowest fixed version above the installed one.
      const versions = rows.map((r) => r.fixed_build!).filter((v) => compareVendorVersion(v, q.version) > 0).sort(compareVendorVersion);
      return versions.length ? VERSION(versions[0]) : null;
    }
    const newest = newestSuperseder(byKb.product_id, byKb.kb);
    return {
      status: 'update', update: { kind: 'kb', id: byKb.kb, title: `${byKb.sub_type ?? 'Security Update'} for ${byKb.name ?? `product ${byKb.product_id}`} (KB${byKb.kb})` },
      deployable: { id: newest, title: newest === byKb.kb ? null : `Supersedes KB${byKb.kb}` }, fixedVersion: byKb.fixed_build, reason: null, requiresUbuntuPro: false,
    };
  }

  function redHat(q: FixQuery): Omit<FindingFix, 'kev'> | null {
    const release = /enterprise_linux_(\d+)(?:\.(\d+))?/.exec(q.osVersion ?? '') ?? /el(\d+)(?:_(\d+))?/.exec(q.version);
    if (!release) return null;
    const major = Number(release[1]);
    const minor = release[2] === undefined ? null : Number(release[2]);
    type Row = { rhel_major: number; rhel_minor: number | null; stream_kind: string | null; state: string; reason: string | null; fixed_version: string | null; advisory: string | null };
    const applies = (r: Row) => r.rhel_major === major && (r.rhel_minor === null || minor === null
      || (/EUS|AUS|TUS|E4S/.test(r.stream_kind ?? '') ? r.rhel_minor === minor : r.rhel_minor <= minor));
    // A state names the package that Defender reports, or (unfixed) only its source rpm.
    let rows = (statements.redhat.all(q.cveId, q.name) as Row[]).filter(applies);
    const source = remember(`redhatSource|${q.name}`, () => statements.redhatSource.get(q.name) as string | undefined);
    if (!rows.length && source) rows = (statements.redhat.all(q.cveId, source) as Row[]).filter(applies);
    if (!rows.length) return null;
    const fixed = rows.filter((r) => r.state === 'fixed' && r.fixed_version).sort((a, b) => compareRpm(a.fixed_version!, b.fixed_version!));
    if (!fixed.length) return NO_FIX(rows.some((r) => r.state === 'will_not_fix') ? 'will_not_fix' : 'no_fix_released');
    // The first fix at or above the installed release (an EUS stream and the main stream may both have one).
    const fix = fixed.find((r) => compareRpm(r.fixed_version!, q.version) > 0) ?? fixed[fixed.length - 1];
    // The newest advisory of the package on the streams the device takes updates from (installing it includes every earlier fix).
    const newest = remember(`redhatNewest|${q.name}|${major}|${minor}`, () => (statements.redhatNewest.all(q.name, major) as Row[]).filter(applies)
      .reduce<Row | null>((best, r) => (!best || compareRpm(r.fixed_version!, best.fixed_version!) > 0 ? r : best), null));
    return {
      status: 'update', update: { kind: 'rhsa', id: fix.advisory ?? '', title: `${q.name} ${fix.fixed_version}` },
      deployable: newest ? { id: newest.advisory!, title: `${q.name} ${newest.fixed_version}` } : null, fixedVersion: fix.fixed_version, reason: null, requiresUbuntuPro: false,
    };
  }

  function ubuntu(q: FixQuery): Omit<FindingFix, 'kev'> | null {
    const release = /(\d{2}\.\d{2})/.exec(q.osVersion ?? '')?.[1];
    if (!release) return null;
    type Row = { advisory: string; fixed_version: string | null; pro_required: number };
    // Under the binary package Defender reports; a CVE's own record may name only the source package.
    let rows = statements.ubuntu.all(q.cveId, q.name, release) as Row[];
    const source = remember(`ubuntuSource|${q.name}|${release}`, () => statements.ubuntuSource.get(q.name, release) as string | undefined);
    if (source && source !== q.name) rows = [...rows, ...statements.ubuntu.all(q.cveId, source, release) as Row[]];
    if (!rows.length) return null;
    // A security notice (USN) is the update; Ubuntu's per-CVE records (UBUNTU-CVE-…) only repeat its version.
    const notices = rows.filter((r) => r.advisory.startsWith('USN-'));
    const fixed = (notices.some((r) => r.fixed_version) ? notices : rows).filter((r) => r.fixed_version).sort((a, b) => compareDpkg(a.fixed_version!, b.fixed_version!));
    if (!fixed.length) return NO_FIX('no_fix_released');
    const fix = fixed.find((r) => compareDpkg(r.fixed_version!, q.version) > 0) ?? fixed[fixed.length - 1];
    const newest = remember(`ubuntuNewest|${q.name}|${release}`, () => (statements.ubuntuNewest.all(q.name, release) as { advisory: string; fixed_version: string }[])
      .reduce<{ advisory: string; fixed_version: string } | null>((best, r) => (!best || compareDpkg(r.fixed_version, best.fixed_version) > 0 ? r : best), null));
    return {
      status: 'update', update: { kind: 'usn', id: fix.advisory, title: `${q.name} ${fix.fixed_version}` },
      deployable: newest ? { id: newest.advisory, title: `${q.name} ${newest.fixed_version}` } : null, fixedVersion: fix.fixed_version,
      reason: null, requiresUbuntuPro: fix.pro_required === 1,
    };
  }

  function thirdParty(q: FixQuery): Omit<FindingFix, 'kev'> | null {
    type Range = { version: string | null; start_including: string | null; start_excluding: string | null; end_including: string | null; end_excluding: string | null };
    const ranges = defenderCpeKeys(q.vendor, q.name).flatMap((key) => statements.nvdRanges.all(q.cveId, key) as Range[]);
    if (!ranges.length) return statements.nvdCve.get(q.cveId) === 1 ? NO_FIX('not_analysed') : null;
    const cmp = (a: string) => compareVendorVersion(q.version, a);
    const holding = ranges.filter((r) => (r.start_including === null || cmp(r.start_including) >= 0) && (r.start_excluding === null || cmp(r.start_excluding) > 0)
      && (r.end_excluding === null || cmp(r.end_excluding) < 0) && (r.end_including === null || cmp(r.end_including) <= 0));
    const fixes = (holding.length ? holding : ranges).map((r) => r.end_excluding).filter((v): v is string => v !== null && compareVendorVersion(v, q.version) > 0)
      .sort(compareVendorVersion);
    // Ranges that name only the last vulnerable version (versionEndIncluding) name no fix.
    return fixes.length ? VERSION(fixes[0]) : NO_FIX('no_fix_released');
  }

  function answer(q: FixQuery): Omit<FindingFix, 'kev'> {
    const vendor = q.vendor.toLowerCase();
    const scheme = versionScheme(q.vendor, q.name);
    const known = scheme === 'windows_build' ? windows(q)
      : vendor === 'red_hat' ? redHat(q)
        : vendor === 'ubuntu' ? ubuntu(q)
          : vendor === 'microsoft' ? microsoft(q) ?? thirdParty(q) : thirdParty(q);
    return known ?? defenderHint(q);
  }

  return {
    /**
     * For one installation (the same product and version on one device) and its open CVEs: the
     * lowest version that fixes all of them ("update to ≥ V"), and the CVEs no known version fixes.
     */
    versionFixingAll(queries: FixQuery[]): { version: string | null; unfixed: string[] } {
      let version: string | null = null;
      const unfixed: string[] = [];
      for (const [i, fix] of this.fixesFor(queries).entries()) {
        if (fix.status !== 'version' || !fix.fixedVersion) unfixed.push(queries[i].cveId);
        else if (version === null || compareVendorVersion(fix.fixedVersion, version) > 0) version = fix.fixedVersion;
      }
      return { version, unfixed };
    },

    /** The fix of each finding, in order. */
    fixesFor(queries: FixQuery[]): FindingFix[] {
      refresh();
      return queries.map((q) => {
        const key = `${q.vendor}/${q.name}|${q.version}|${q.cveId}|${q.osVersion}|${q.recommendedUpdateId}`;
        let known = answers.get(key);
        if (!known) {
          if (answers.size >= CACHED_ANSWERS) answers.clear();
          answers.set(key, known = answer(q));
        }
        return { ...known, kev: kev.get(q.cveId) ?? null };
      });
    },
  };
}

export type Knowledge = ReturnType<typeof createKnowledge>;
