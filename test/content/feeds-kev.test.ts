import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKev } from '../../src/content/feeds/kev.js';
import { assertFeedFormatError, fixture } from './feed-fixtures.js';

describe('CISA KEV catalog', () => {
  const { catalog, entries, skipped } = parseKev(fixture('kev', 'known_exploited_vulnerabilities.json'));

  it('reads the catalog header', () => {
    assert.deepEqual(catalog, {
      title: 'CISA Catalog of Known Exploited Vulnerabilities', catalogVersion: '2025.01.14', dateReleased: '2025-01-14T17:51:12Z', count: 5,
    });
  });

  it('reads every field of an entry', () => {
    assert.deepEqual(entries[0], {
      cve: 'CVE-2024-21412', vendorProject: 'Microsoft', product: 'Windows',
      vulnerabilityName: 'Microsoft Windows Internet Shortcut Files Security Feature Bypass Vulnerability',
      dateAdded: '2024-02-13',
      shortDescription: 'Microsoft Windows Internet Shortcut Files contains an unspecified vulnerability that allows for a security feature bypass.',
      requiredAction: 'Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.',
      dueDate: '2024-03-05', knownRansomwareCampaignUse: true,
      notes: 'https://msrc.microsoft.com/update-guide/vulnerability/CVE-2024-21412; https://nvd.nist.gov/vuln/detail/CVE-2024-21412',
      cwes: ['CWE-693'],
    });
  });

  it('reads "Unknown" ransomware use as false and empty notes as none', () => {
    assert.equal(entries[1].cve, 'CVE-2024-4947');
    assert.equal(entries[1].knownRansomwareCampaignUse, false);
    assert.equal(entries[1].notes, null);
  });

  it('keeps an entry with odd fields, drops one without a usable CVE or date, and says so', () => {
    assert.deepEqual(entries.map((e) => e.cve), ['CVE-2024-21412', 'CVE-2024-4947', 'CVE-2025-0282']);
    assert.equal(entries[2].dueDate, null);
    assert.equal(entries[2].knownRansomwareCampaignUse, null);
    assert.deepEqual(skipped.map((s) => s.where), ['CVE-2025-0282', 'CVE-2025-0282', 'entry 4', 'catalog']);
    assert.equal(skipped[0].reason, 'unreadable dueDate "next week"');
    assert.equal(skipped[1].reason, 'knownRansomwareCampaignUse "Maybe" is neither Known nor Unknown');
    assert.match(skipped[2].reason, /^no valid cveID and dateAdded: \{"cveID":"CVE-2023-1234",.*\.\.\.$/, 'long values are shortened');
    assert.equal(skipped[3].reason, 'count says 5 entries but the catalog lists 4');
  });

  it('refuses a truncated catalog, an error page and other documents', () => {
    const text = fixture('kev', 'known_exploited_vulnerabilities.json').toString('utf8');
    assertFeedFormatError(() => parseKev(text.slice(0, text.length / 2)), 'kev', 'known_exploited_vulnerabilities.json', /^CISA KEV document /, /cut short/, /kept/);
    assertFeedFormatError(() => parseKev(fixture('msrc', 'error-page.html')), 'kev', 'known_exploited_vulnerabilities.json', /web page/, /kevUrl/);
    assertFeedFormatError(() => parseKev(fixture('nvd', 'cves-page-0.json')), 'kev', 'known_exploited_vulnerabilities.json', /not a document of the CISA KEV feed/);
  });
});
