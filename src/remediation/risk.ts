// The risk score of a remediation, from its open findings (README, "Risk score"):
//   riskScore = cvss × exploit × (1 + epss) × reach × criticality, rounded to one decimal, where
//   cvss        the highest CVSS of its open CVEs (Defender's severity stands in when a CVE has
//               none: Critical 9.0, High 7.0, Medium 4.0, Low 0.1);
//   exploit     the weight of the highest exploit level of its open findings: by default KEV (CISA
//               lists the CVE) 2.0, in an exploit kit 1.75, verified 1.5, public 1.25, none 1.0;
//   epss        the highest EPSS (0–1) of its open CVEs, 0 when the catalog has none;
//   reach       log10(10 + devices): 1 for one device, 2 at 90, 3 at 990, 4 at 9,990;
//   criticality the highest criticality of its devices' RBAC groups (1 unless set).
// The weights and criticalities are settings (risk-settings.ts).

export type ExploitLevel = 'none' | 'public' | 'verified' | 'inKit' | 'kev';

/** Exploit levels by the rank the store aggregates (0 none … 4 KEV). */
export const EXPLOIT_LEVELS: ExploitLevel[] = ['none', 'public', 'verified', 'inKit', 'kev'];
export const EXPLOIT_WEIGHT: Record<ExploitLevel, number> = { none: 1, public: 1.25, verified: 1.5, inKit: 1.75, kev: 2 };

export interface RiskFactors {
  cvss: number;
  exploitLevel: ExploitLevel;
  epss: number;
  devices: number;
  criticality: number;
}

export interface RiskBreakdown extends RiskFactors {
  exploitWeight: number;
  epssFactor: number;
  reach: number;
  score: number;
  formula: string;
}

export const RISK_FORMULA = 'cvss × exploit weight × (1 + epss) × log10(10 + devices) × criticality';

export function riskOf(factors: RiskFactors, weights: Record<ExploitLevel, number>): RiskBreakdown {
  const exploitWeight = weights[factors.exploitLevel];
  const epssFactor = 1 + factors.epss;
  const reach = Math.log10(10 + factors.devices);
  const score = Math.round(factors.cvss * exploitWeight * epssFactor * reach * factors.criticality * 10) / 10;
  return { ...factors, exploitWeight, epssFactor, reach, score, formula: RISK_FORMULA };
}

