// CISA's Known Exploited Vulnerabilities catalog, the JSON feed
// (`{base}/known_exploited_vulnerabilities.json`): which CVEs are exploited in the wild, since
// when, the federal remediation deadline and ransomware use.

import { isoDate, isoTimestamp, notTheFormat, number, object, quote, readJsonObject, SkipLog, string, strings, type DocumentInput } from './document.js';
import type { KevEntry, KevResult } from './types.js';

const RANSOMWARE: Record<string, boolean> = { known: true, unknown: false };

export function parseKev(input: DocumentInput, document = 'known_exploited_vulnerabilities.json'): KevResult {
  const root = readJsonObject(input, 'kev', document);
  if (!Array.isArray(root.vulnerabilities) || !('catalogVersion' in root || 'dateReleased' in root)) {
    throw notTheFormat('kev', document, 'it has no catalogVersion and vulnerabilities list');
  }
  const skip = new SkipLog();
  const entries: KevEntry[] = [];
  for (const [i, item] of root.vulnerabilities.entries()) {
    const entry = object(item);
    const cve = string(entry?.cveID);
    const dateAdded = isoDate(entry?.dateAdded);
    if (!entry || cve === null || !/^CVE-\d{4}-\d{4,}$/.test(cve) || dateAdded === null) {
      skip.add(`entry ${i + 1}`, `no valid cveID and dateAdded: ${quote(item)}`);
      continue;
    }
    const dueDate = isoDate(entry.dueDate);
    if (dueDate === null && string(entry.dueDate) !== null) skip.add(cve, `unreadable dueDate ${quote(entry.dueDate)}`);
    const ransomwareText = string(entry.knownRansomwareCampaignUse);
    const ransomware = ransomwareText === null ? undefined : RANSOMWARE[ransomwareText.toLowerCase()];
    if (ransomware === undefined) skip.add(cve, `knownRansomwareCampaignUse ${quote(entry.knownRansomwareCampaignUse)} is neither Known nor Unknown`);
    entries.push({
      cve,
      vendorProject: string(entry.vendorProject),
      product: string(entry.product),
      vulnerabilityName: string(entry.vulnerabilityName),
      dateAdded,
      shortDescription: string(entry.shortDescription),
      requiredAction: string(entry.requiredAction),
      dueDate,
      knownRansomwareCampaignUse: ransomware ?? null,
      notes: string(entry.notes),
      cwes: strings(entry.cwes),
    });
  }
  const count = number(root.count);
  if (count !== null && count !== root.vulnerabilities.length) {
    skip.add('catalog', `count says ${count} entries but the catalog lists ${root.vulnerabilities.length}`);
  }
  return {
    catalog: { title: string(root.title), catalogVersion: string(root.catalogVersion), dateReleased: isoTimestamp(root.dateReleased), count },
    entries,
    skipped: skip.items,
  };
}
