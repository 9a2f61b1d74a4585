// Table types for Kysely. Columns are snake_case as stored; timestamps are ISO-8601 UTC strings.

import type { Generated } from 'kysely';

export type Role = 'admin' | 'operator' | 'analyst';

export interface UserTable {
  id: Generated<number>;
  username: string;
  /** scrypt; empty for accounts that sign in with Entra ID only. */
  password_hash: string;
  role: Role;
  display_name: string | null;
  source: Generated<'local' | 'entra'>;
  entra_object_id: string | null;
  /** 1: sees every connection; 0: only those in user_connection. */
  all_connections: Generated<number>;
  disabled: Generated<number>;
  require_mfa: Generated<number>;
  /** Sealed TOTP secrets (confirmed, and one being enrolled). */
  totp_secret: Buffer | null;
  totp_pending: Buffer | null;
  /** The last TOTP time step used, so a code works once. */
  totp_last_step: number | null;
  last_sign_in_at: string | null;
  created_at: string;
}

export interface UserConnectionTable {
  user_id: number;
  connection_id: string;
}

export interface SessionTable {
  /** Public id (lists, "sign out" of one session); the cookie value is only stored hashed. */
  id: string;
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  address: string | null;
  user_agent: string | null;
  /** An administrator requires MFA and the user has none: only enrolment is open to this session. */
  must_enrol_mfa: Generated<number>;
}

export interface ApiTokenTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  user_id: number;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  /** At most the owner's role; null: the owner's. */
  role: Role | null;
  all_connections: Generated<number>;
}

export interface TokenConnectionTable {
  token_id: number;
  connection_id: string;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  /** ms since epoch: no attempt before this. */
  next_at: number;
  last_at: number;
}

export interface OidcRequestTable {
  state: string;
  nonce: string;
  code_verifier: string;
  created_at: number;
}

export interface SettingTable {
  key: string;
  value: string;
}

export interface AuditEventTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: string;
  address: string | null;
}

export interface ConnectionTable {
  id: string;
  name: string;
  cloud: 'commercial' | 'gcc' | 'gcc-high' | 'dod' | 'custom';
  tenant_id: string;
  client_id: string;
  login_url: string | null;
  api_url: string | null;
  /** AES-256-GCM: version byte, 12-byte IV, 16-byte tag, ciphertext. */
  secret_ciphertext: Buffer;
  /** First three characters, as the Entra portal shows them. */
  secret_hint: string;
  secret_set_at: string;
  secret_expires_on: string | null;
  status: 'connected' | 'failed' | 'unchecked';
  /** How often the scheduler syncs this tenant (default 6 hours, Defender's snapshot cadence). */
  sync_interval_minutes: Generated<number>;
  /** "files": export via files (default); "json": the paged JSON export. */
  export_method: Generated<'files' | 'json'>;
  last_checked_at: string | null;
  last_check_code: string | null;
  last_check_message: string | null;
  created_at: string;
  updated_at: string;
}

export interface SyncRunTable {
  id: string;
  connection_id: string;
  kind: 'full' | 'delta' | 'catalog';
  requested: 'full' | 'delta' | 'auto';
  trigger: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  phase: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  parts_total: number;
  parts_done: number;
  rows_read: number;
  rows_added: number;
  rows_fixed: number;
  rows_updated: number;
  rows_reopened: number;
  error_code: string | null;
  error_message: string | null;
  error_fix: string | null;
  created_at: string;
}

export interface TenantTable {
  ref: Generated<number>;
  connection_id: string;
}

export interface DeviceTable {
  ref: Generated<number>;
  tenant_ref: number;
  device_id: string;
  name: string | null;
  os_platform: string | null;
  os_version: string | null;
  os_architecture: string | null;
  rbac_group_id: number | null;
  rbac_group_name: string | null;
  last_seen: string | null;
  /** Read model: open findings, and of them by severity. */
  open_findings: Generated<number>;
  open_critical: Generated<number>;
  open_high: Generated<number>;
  open_medium: Generated<number>;
  open_low: Generated<number>;
  /** The OS version its findings' remediations were counted under (src/remediation/tally.ts). */
  remediation_os: string | null;
  /** The RBAC group its findings' SLA figures were counted under (-1: none; src/remediation/sla-tally.ts). */
  sla_group: number | null;
}

export interface SoftwareTable {
  ref: Generated<number>;
  vendor: string;
  name: string;
  version: string;
}

export interface InstallationTable {
  device_ref: number;
  software_ref: number;
  disk_paths: string | null;
  registry_paths: string | null;
}

export interface CveTable {
  ref: Generated<number>;
  cve_id: string;
}

export interface FindingDetailTable {
  ref: Generated<number>;
  key: string;
  severity: string | null;
  cvss: number | null;
  exploitability: string | null;
  update_title: string | null;
  update_id: string | null;
  update_url: string | null;
  update_available: number | null;
}

/** Times are unix seconds; a finding is open while fixed_at is null. */
export interface FindingTable {
  id: Generated<number>;
  device_ref: number;
  software_ref: number;
  cve_ref: number;
  detail_ref: number;
  first_seen: number | null;
  opened_at: number;
  fixed_at: number | null;
  reopened: number;
}

export interface VulnerabilityTable {
  tenant_ref: number;
  cve_id: string;
  name: string | null;
  description: string | null;
  severity: string | null;
  cvss: number | null;
  cvss_vector: string | null;
  epss: number | null;
  public_exploit: number | null;
  exploit_verified: number | null;
  exploit_in_kit: number | null;
  exploit_types: string | null;
  tags: string | null;
  exposed_machines: number | null;
  published_on: string | null;
  updated_on: string | null;
  first_detected: string | null;
  patch_first_available: string | null;
}

export interface SyncStateTable {
  tenant_ref: number;
  snapshot_time: string | null;
  /** Findings the last full snapshot listed. */
  snapshot_rows: number | null;
  delta_checkpoint: string | null;
  catalog_checkpoint: string | null;
  last_full_at: string | null;
}

/** Read models (src/sync/exposure-tally.ts), per tenant. */
export interface CveExposureTable {
  tenant_ref: number;
  cve_ref: number;
  exposed_devices: number;
  open_findings: number;
  /** Unix seconds: the earliest first-seen of its findings. */
  first_seen: number | null;
}

interface OpenBySeverity {
  open_findings: number;
  open_critical: number;
  open_high: number;
  open_medium: number;
  open_low: number;
}

export interface SoftwareExposureTable extends OpenBySeverity {
  tenant_ref: number;
  software_ref: number;
  exposed_devices: number;
  cves: number;
}

/** Every finding of a tenant by CVE (open and fixed), in id order within a CVE. */
export interface CveFindingTable {
  tenant_ref: number;
  cve_ref: number;
  finding_id: number;
}

export interface SoftwareCveTable {
  tenant_ref: number;
  software_ref: number;
  cve_ref: number;
  open_findings: number;
}

export interface TenantExposureTable extends OpenBySeverity {
  tenant_ref: number;
  devices: number;
  exposed_devices: number;
}

/** The state after a day's last sync, and the findings opened and fixed that day (UTC). */
export interface ExposureDayTable extends OpenBySeverity {
  tenant_ref: number;
  day: string;
  exposed_devices: number;
  opened: number;
  fixed: number;
}

export interface FindingEventTable {
  finding_id: number;
  /** Unix seconds. */
  at: number;
  event: 'fixed' | 'reopened';
  run_id: string;
}

export type RemediationKind = 'windows_update' | 'microsoft_update' | 'linux_advisory' | 'product_update' | 'coverage_gap';

/** Read model (src/remediation/tally.ts): an action that closes findings, or a coverage gap. */
export interface RemediationTable {
  ref: Generated<number>;
  tenant_ref: number;
  /** Identity within the tenant: `windows:<product>:<build line>`, `kb:<KB>`, `advisory:<id>`, `product:<vendor>/<name>`, `gap:<vendor>/<name>:<reason>`. */
  key: string;
  kind: RemediationKind;
  title: string;
  /** vendor/name for product updates and coverage gaps. */
  product: string | null;
  /** Coverage gaps: why no fix is known. */
  reason: string | null;
  update_id: string | null;
  update_title: string | null;
  /** JSON: [{vendor, name, minimumVersion}] — the versions that close its open findings. */
  content: string;
  open_findings: number;
  /** Findings fixed while they belonged to it. */
  fixed_findings: number;
  devices: number;
  cves: number;
  open_critical: number;
  open_high: number;
  open_medium: number;
  open_low: number;
  risk_score: number;
  /** JSON: the score's factors (src/remediation/risk.ts). */
  risk: string;
  due_on: string | null;
  /** Unix seconds: when Defender reported its last open finding fixed. */
  completed_at: number | null;
}

export interface RemediationKeyTable {
  tenant_ref: number;
  software_ref: number;
  cve_ref: number;
  detail_ref: number;
  /** The device's OS version for Linux packages (their fix depends on the release), else ''. */
  os: string;
  remediation_ref: number;
  fixed_version: string | null;
  kev: number;
  kev_due: string | null;
  open_findings: number;
  first_seen: number | null;
}

export interface RemediationDeviceTable {
  remediation_ref: number;
  device_ref: number;
  open_findings: number;
}

/** Read model (src/remediation/sla-tally.ts): open findings per SLA key. Days count from 1970-01-01 (UTC). */
export interface SlaOpenTable {
  tenant_ref: number;
  /** -1: no RBAC group. */
  rbac_group_id: number;
  /** exposure-tally.ts's index: 0 none, 1 Critical, 2 High, 3 Medium, 4 Low. */
  severity: number;
  /** The day of first seen (of opened_at when Defender gave none). */
  start_day: number;
  /** CISA's due day when the CVE is known exploited, else 0. */
  kev_due_day: number;
  open_findings: number;
}

export interface SlaKevTable {
  tenant_ref: number;
  cve_ref: number;
  kev_due_day: number;
}

export interface SlaGroupTable {
  tenant_ref: number;
  rbac_group_id: number;
  name: string | null;
}

export interface SlaFixedDayTable {
  tenant_ref: number;
  day: string;
  severity: number;
  fixed: number;
  /** Sum over those fixes of fixed_at − first seen (or opened_at). */
  seconds: number;
}

/** The SLA figures after a day's last sync (exceptions not left out). */
export interface SlaDayTable {
  tenant_ref: number;
  day: string;
  open_findings: number;
  approaching: number;
  overdue: number;
}

/** Tables of findings.db, attached read-only to the main connection as schema `vuln`. */
export interface FindingsDatabase {
  tenant: TenantTable;
  software: SoftwareTable;
  device: DeviceTable;
  installation: InstallationTable;
  cve: CveTable;
  finding_detail: FindingDetailTable;
  finding: FindingTable;
  finding_event: FindingEventTable;
  vulnerability: VulnerabilityTable;
  sync_state: SyncStateTable;
  cve_exposure: CveExposureTable;
  software_exposure: SoftwareExposureTable;
  software_cve: SoftwareCveTable;
  cve_finding: CveFindingTable;
  tenant_exposure: TenantExposureTable;
  exposure_day: ExposureDayTable;
  remediation: RemediationTable;
  remediation_key: RemediationKeyTable;
  remediation_device: RemediationDeviceTable;
  sla_open: SlaOpenTable;
  sla_kev: SlaKevTable;
  sla_group: SlaGroupTable;
  sla_fixed_day: SlaFixedDayTable;
  sla_day: SlaDayTable;
}

/** A patch content import (src/content); times are ISO strings. */
export interface ContentImportTable {
  id: string;
  source: 'msrc' | 'redhat' | 'ubuntu' | 'nvd' | 'kev' | 'all';
  /** schedule, manual, file */
  origin: string;
  actor: string | null;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  phase: string;
  done: number;
  total: number | null;
  documents: number;
  records: number;
  skipped: number;
  /** JSON: the first skipped records ({where, reason}). */
  skipped_sample: string;
  /** JSON: per feed, {status, error, documents, records, skipped}. */
  feeds: string;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface RiskExceptionTable {
  id: string;
  connection_id: string;
  scope_kind: 'finding' | 'cve' | 'software' | 'rbac_group';
  device_id: string | null;
  cve_id: string | null;
  software_vendor: string | null;
  software_name: string | null;
  software_version: string | null;
  rbac_group_id: number | null;
  justification: 'third_party_control' | 'alternate_mitigation' | 'risk_accepted' | 'planned_remediation';
  comment: string | null;
  owner: string;
  /** YYYY-MM-DD: the last day it applies (UTC). */
  expires_on: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** When the expiry was noticed and audited. */
  expired_at: string | null;
}

export interface Database {
  sync_run: SyncRunTable;
  risk_exception: RiskExceptionTable;
  content_import: ContentImportTable;
  'vuln.tenant': TenantTable;
  'vuln.software': SoftwareTable;
  'vuln.device': DeviceTable;
  'vuln.installation': InstallationTable;
  'vuln.cve': CveTable;
  'vuln.finding_detail': FindingDetailTable;
  'vuln.finding': FindingTable;
  'vuln.finding_event': FindingEventTable;
  'vuln.vulnerability': VulnerabilityTable;
  'vuln.sync_state': SyncStateTable;
  'vuln.cve_exposure': CveExposureTable;
  'vuln.software_exposure': SoftwareExposureTable;
  'vuln.software_cve': SoftwareCveTable;
  'vuln.cve_finding': CveFindingTable;
  'vuln.tenant_exposure': TenantExposureTable;
  'vuln.exposure_day': ExposureDayTable;
  'vuln.remediation': RemediationTable;
  'vuln.remediation_key': RemediationKeyTable;
  'vuln.remediation_device': RemediationDeviceTable;
  'vuln.sla_open': SlaOpenTable;
  'vuln.sla_kev': SlaKevTable;
  'vuln.sla_group': SlaGroupTable;
  'vuln.sla_fixed_day': SlaFixedDayTable;
  'vuln.sla_day': SlaDayTable;
  user: UserTable;
  user_connection: UserConnectionTable;
  session: SessionTable;
  api_token: ApiTokenTable;
  token_connection: TokenConnectionTable;
  login_throttle: LoginThrottleTable;
  oidc_request: OidcRequestTable;
  setting: SettingTable;
  audit_event: AuditEventTable;
  connection: ConnectionTable;
}
