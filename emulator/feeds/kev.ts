// CISA's Known Exploited Vulnerabilities catalog (cisa.gov/sites/default/files/feeds/
// known_exploited_vulnerabilities.json): the CVEs of the world exploited in the wild, from the day
// CISA adds each one, with the remediation due date federal agencies must meet.

import { isoDate } from '../world/calendar.js';
import type { Cve } from '../world/world.js';
import type { Route } from '../http.js';
import { json } from '../http.js';
import { cweOf, type FeedContext } from './feed.js';

const PATH = '/sites/default/files/feeds/known_exploited_vulnerabilities.json';

/** KEV's names start with the vendor: "Microsoft Windows Kernel Elevation of Privilege Vulnerability". */
export function vulnerabilityName(cve: Cve): string {
  return cve.title.startsWith(cve.vendorProject) ? cve.title : `${cve.vendorProject} ${cve.title}`;
}

export function createKevRoutes(ctx: FeedContext): Route[] {
  return [{
    method: 'GET', path: PATH, endpoint: 'kev', handle: () => {
      const t = ctx.time();
      const entries = [...ctx.world.catalog(t)]
        .flatMap((cve) => { const kev = ctx.world.kevEntry(cve, t); return kev ? [{ cve, kev }] : []; })
        .sort((a, b) => (a.kev.dateAdded < b.kev.dateAdded ? -1 : a.kev.dateAdded > b.kev.dateAdded ? 1 : a.cve.id < b.cve.id ? -1 : 1));
      const latest = entries.at(-1)?.kev.dateAdded ?? isoDate(t);
      return json(200, {
        title: 'CISA Catalog of Known Exploited Vulnerabilities',
        catalogVersion: latest.replace(/-/g, '.'),
        dateReleased: `${latest}T16:00:00.0000Z`,
        count: entries.length,
        vulnerabilities: entries.map(({ cve, kev }) => ({
          cveID: cve.id,
          vendorProject: cve.vendorProject,
          product: cve.product,
          vulnerabilityName: vulnerabilityName(cve),
          dateAdded: kev.dateAdded,
          shortDescription: cve.description || `${cve.vendorProject} ${cve.product} contains a vulnerability: ${cve.title}.`,
          requiredAction: 'Apply mitigations per vendor instructions, follow applicable BOD 22-01 guidance for cloud services, or discontinue use of the product if mitigations are unavailable.',
          dueDate: kev.dueDate,
          knownRansomwareCampaignUse: kev.ransomware ? 'Known' : 'Unknown',
          notes: `https://nvd.nist.gov/vuln/detail/${cve.id}`,
          cwes: [cweOf(cve.impact, cve.event).id],
        })),
      });
    },
  }];
}
