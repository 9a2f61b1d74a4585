// One validated settings object, built from (lowest to highest precedence) defaults, an optional
// JSON config file, environment variables and command-line flags.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** "true"/"1"/"yes" and "false"/"0"/"no", as env vars and config files spell them. */
const flag = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  return v;
}, z.boolean());

/** JSON given as text (an environment variable), parsed; anything else is left to the schema. */
function jsonText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** A list, given as comma-separated text in an environment variable or as an array in the config file. */
const commaList = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((h) => h.trim()).filter(Boolean) : v), z.array(z.string().min(1))).default([]);

const settingsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  dataDir: z.string().min(1).default('./sitepatch-data'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** 32-byte key as base64 or hex; without it (or masterKeyFile), a key file is created in the data directory. */
  masterKey: z.string().optional(),
  /** A file holding the master key, kept apart from the data (e.g. a mounted secret). */
  masterKeyFile: z.string().optional(),
  /** Creates the account `admin` with this password on first start. */
  adminPassword: z.string().optional(),
  /** PEM file of an extra certificate authority (TLS-inspecting proxy, or the emulator). */
  extraCaFile: z.string().optional(),
  /** Node's own NODE_EXTRA_CA_CERTS: trusted as well, since explicit CA lists replace Node's defaults. */
  nodeExtraCaCerts: z.string().optional(),
  /** Outbound proxy for Entra and Defender, e.g. http://proxy.corp:3128. */
  httpsProxy: z.string().url().optional(),
  /** Mark session cookies Secure; on by default when the console is served over HTTPS or publicUrl is https. */
  secureCookies: flag.optional(),
  /** The address users open, e.g. https://sitepatch.contoso.com (behind a TLS proxy): its host is accepted, and Entra returns there. */
  publicUrl: z.string().url().optional(),
  /** More host names the console answers to (besides its listen address, localhost and publicUrl's host). */
  allowedHosts: commaList,
  /** Reverse proxies whose X-Forwarded-For names the client (addresses or CIDRs); none by default. */
  trustProxy: commaList,
  /** Serve HTTPS with this certificate and key (PEM files). */
  tlsCertFile: z.string().optional(),
  tlsKeyFile: z.string().optional(),
  /** Sign in with Microsoft Entra ID: the console's app registration (see README). */
  entraTenantId: z.string().optional(),
  entraClientId: z.string().optional(),
  entraClientSecret: z.string().optional(),
  /** commercial (login.microsoftonline.com), gcc-high and dod (login.microsoftonline.us), or a custom login base URL. */
  entraLoginUrl: z.string().url().optional(),
  /** Entra group object id → role, and → connection ids (JSON objects). */
  entraGroupRoles: z.preprocess(jsonText, z.record(z.string(), z.enum(['admin', 'operator', 'analyst']))).default({}),
  entraGroupConnections: z.preprocess(jsonText, z.record(z.string(), z.array(z.string()))).default({}),
  /** Start an emulated Defender tenant alongside and connect it (no Microsoft account needed). */
  demo: flag.default(false),
  /** Sync each connection on its interval; off leaves only "sync now". */
  scheduler: flag.default(true),
  /** Scales the sync's waits (quota windows, backoff); below 1 only for emulated tenants. */
  syncTimeScale: z.coerce.number().positive().max(1).default(1),
  demoDevices: z.coerce.number().int().min(1).max(100_000).default(500),
  /** The vendors' patch feeds (src/content), each the base address the vendor documents; the emulator or a mirror can stand in. */
  msrcCvrfUrl: z.string().url().default('https://api.msrc.microsoft.com/cvrf/v3.0'),
  redHatVexUrl: z.string().url().default('https://security.access.redhat.com/data/csaf/v2/vex'),
  ubuntuOsvUrl: z.string().url().default('https://osv-vulnerabilities.storage.googleapis.com/Ubuntu'),
  nvdUrl: z.string().url().default('https://services.nvd.nist.gov/rest/json/cves/2.0'),
  kevUrl: z.string().url().default('https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json'),
  /** NVD API key: raises NVD's rate limit from about 5 to 50 requests per 30 s. */
  nvdApiKey: z.string().optional(),
  /** Hours between imports of every feed; 0 imports only when asked. */
  contentImportHours: z.coerce.number().min(0).max(24 * 30).default(24),
  /** Days from first seen to a finding's due date, per severity (findings of no severity use Low's); CISA's KEV due date applies when sooner. */
  slaCriticalDays: z.coerce.number().int().min(1).max(3650).default(7),
  slaHighDays: z.coerce.number().int().min(1).max(3650).default(30),
  slaMediumDays: z.coerce.number().int().min(1).max(3650).default(90),
  slaLowDays: z.coerce.number().int().min(1).max(3650).default(180),
  /** postgres://… : the PostgreSQL store, shared by web processes and `sitepatch worker` processes (README, "Scale out"). */
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL').optional(),
  /** Syncs one worker process runs at once (each of a different connection). */
  workerSyncs: z.coerce.number().int().min(1).max(32).default(2),
  /** How often a worker tells the queue it is alive; a job whose worker is silent twice as long is retried elsewhere. */
  workerHeartbeatSeconds: z.coerce.number().int().min(10).max(600).default(30),
  /** The port of a worker's /health, /ready and /metrics (on `host`). */
  workerPort: z.coerce.number().int().min(0).max(65535).default(9464),
});

export type Settings = z.infer<typeof settingsSchema> & { secureCookies: boolean };
export type SettingsInput = Partial<Record<keyof Settings, unknown>>;

const ENV: Record<string, keyof Settings> = {
  SITEPATCH_HOST: 'host',
  PORT: 'port',
  SITEPATCH_PORT: 'port',
  SITEPATCH_DATA_DIR: 'dataDir',
  SITEPATCH_LOG_LEVEL: 'logLevel',
  SITEPATCH_MASTER_KEY: 'masterKey',
  SITEPATCH_MASTER_KEY_FILE: 'masterKeyFile',
  SITEPATCH_SECURE_COOKIES: 'secureCookies',
  SITEPATCH_PUBLIC_URL: 'publicUrl',
  SITEPATCH_ALLOWED_HOSTS: 'allowedHosts',
  SITEPATCH_TRUST_PROXY: 'trustProxy',
  SITEPATCH_TLS_CERT_FILE: 'tlsCertFile',
  SITEPATCH_TLS_KEY_FILE: 'tlsKeyFile',
  SITEPATCH_ENTRA_TENANT_ID: 'entraTenantId',
  SITEPATCH_ENTRA_CLIENT_ID: 'entraClientId',
  SITEPATCH_ENTRA_CLIENT_SECRET: 'entraClientSecret',
  SITEPATCH_ENTRA_LOGIN_URL: 'entraLoginUrl',
  SITEPATCH_ENTRA_GROUP_ROLES: 'entraGroupRoles',
  SITEPATCH_ENTRA_GROUP_CONNECTIONS: 'entraGroupConnections',
  SITEPATCH_ADMIN_PASSWORD: 'adminPassword',
  SITEPATCH_EXTRA_CA_FILE: 'extraCaFile',
  NODE_EXTRA_CA_CERTS: 'nodeExtraCaCerts',
  HTTPS_PROXY: 'httpsProxy',
  https_proxy: 'httpsProxy',
  SITEPATCH_DEMO: 'demo',
  SITEPATCH_SCHEDULER: 'scheduler',
  SITEPATCH_SYNC_TIME_SCALE: 'syncTimeScale',
  SITEPATCH_MSRC_CVRF_URL: 'msrcCvrfUrl',
  SITEPATCH_REDHAT_VEX_URL: 'redHatVexUrl',
  SITEPATCH_UBUNTU_OSV_URL: 'ubuntuOsvUrl',
  SITEPATCH_NVD_URL: 'nvdUrl',
  SITEPATCH_KEV_URL: 'kevUrl',
  SITEPATCH_NVD_API_KEY: 'nvdApiKey',
  SITEPATCH_CONTENT_IMPORT_HOURS: 'contentImportHours',
  SITEPATCH_SLA_CRITICAL_DAYS: 'slaCriticalDays',
  SITEPATCH_SLA_HIGH_DAYS: 'slaHighDays',
  SITEPATCH_SLA_MEDIUM_DAYS: 'slaMediumDays',
  SITEPATCH_SLA_LOW_DAYS: 'slaLowDays',
  SITEPATCH_DATABASE_URL: 'databaseUrl',
  SITEPATCH_WORKER_SYNCS: 'workerSyncs',
  SITEPATCH_WORKER_HEARTBEAT_SECONDS: 'workerHeartbeatSeconds',
  SITEPATCH_WORKER_PORT: 'workerPort',
};

export class SettingsError extends Error {}

function fromEnv(env: NodeJS.ProcessEnv): SettingsInput {
  const out: SettingsInput = {};
  // Later entries win, so SITEPATCH_* names override the generic ones listed before them.
  for (const [name, key] of Object.entries(ENV)) if (env[name] !== undefined && env[name] !== '') out[key] = env[name];
  return out;
}

function fromFile(file: string): SettingsInput {
  try {
    // A file saved by an editor may start with a byte-order mark: it is not part of the JSON.
    return JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as SettingsInput;
  } catch (e) {
    throw new SettingsError(`Cannot read config file ${file}: ${(e as Error).message}`);
  }
}

/** Builds the settings; `configFile` defaults to sitepatch.json in the data directory, if present. */
export function loadSettings(flags: SettingsInput & { configFile?: string } = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const { configFile, ...flagValues } = flags;
  const defined = (o: SettingsInput) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const envValues = fromEnv(env);
  const dataDir = String(flagValues.dataDir ?? envValues.dataDir ?? './sitepatch-data');
  const file = configFile ?? path.join(dataDir, 'sitepatch.json');
  const fileValues = configFile || existsSync(file) ? fromFile(file) : {};
  const parsed = settingsSchema.safeParse({ ...defined(fileValues), ...defined(envValues), ...defined(flagValues) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new SettingsError(`Invalid settings: ${problems}`);
  }
  const data = parsed.data;
  if (Boolean(data.tlsCertFile) !== Boolean(data.tlsKeyFile)) throw new SettingsError('Invalid settings: tlsCertFile and tlsKeyFile go together (SITEPATCH_TLS_CERT_FILE, SITEPATCH_TLS_KEY_FILE).');
  const entra = [data.entraTenantId, data.entraClientId, data.entraClientSecret];
  if (entra.some(Boolean) && !entra.every(Boolean)) {
    throw new SettingsError('Invalid settings: sign-in with Entra ID needs entraTenantId, entraClientId and entraClientSecret (SITEPATCH_ENTRA_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET).');
  }
  const https = Boolean(data.tlsCertFile) || data.publicUrl?.startsWith('https:') === true;
  return { ...data, secureCookies: data.secureCookies ?? https, dataDir: path.resolve(data.dataDir) };
}

/** The SLA windows the settings give. */
export const slaWindows = (s: Pick<Settings, 'slaCriticalDays' | 'slaHighDays' | 'slaMediumDays' | 'slaLowDays'>) =>
  ({ critical: s.slaCriticalDays, high: s.slaHighDays, medium: s.slaMediumDays, low: s.slaLowDays });
