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

const settingsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  dataDir: z.string().min(1).default('./sitepatch-data'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** 32-byte key as base64 or hex; without it, a key file is created in the data directory. */
  masterKey: z.string().optional(),
  /** Creates the account `admin` with this password on first start. */
  adminPassword: z.string().optional(),
  /** PEM file of an extra certificate authority (TLS-inspecting proxy, or the emulator). */
  extraCaFile: z.string().optional(),
  /** Node's own NODE_EXTRA_CA_CERTS: trusted as well, since explicit CA lists replace Node's defaults. */
  nodeExtraCaCerts: z.string().optional(),
  /** Outbound proxy for Entra and Defender, e.g. http://proxy.corp:3128. */
  httpsProxy: z.string().url().optional(),
  /** Mark session cookies Secure (set when the console is served over HTTPS). */
  secureCookies: flag.default(false),
  /** Start an emulated Defender tenant alongside and connect it (no Microsoft account needed). */
  demo: flag.default(false),
  /** Sync each connection on its interval; off leaves only "sync now". */
  scheduler: flag.default(true),
  /** Scales the sync's waits (quota windows, backoff); below 1 only for emulated tenants. */
  syncTimeScale: z.coerce.number().positive().max(1).default(1),
  demoDevices: z.coerce.number().int().min(1).max(100_000).default(500),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = Partial<Record<keyof Settings, unknown>>;

const ENV: Record<string, keyof Settings> = {
  SITEPATCH_HOST: 'host',
  PORT: 'port',
  SITEPATCH_PORT: 'port',
  SITEPATCH_DATA_DIR: 'dataDir',
  SITEPATCH_LOG_LEVEL: 'logLevel',
  SITEPATCH_MASTER_KEY: 'masterKey',
  SITEPATCH_ADMIN_PASSWORD: 'adminPassword',
  SITEPATCH_EXTRA_CA_FILE: 'extraCaFile',
  NODE_EXTRA_CA_CERTS: 'nodeExtraCaCerts',
  HTTPS_PROXY: 'httpsProxy',
  https_proxy: 'httpsProxy',
  SITEPATCH_DEMO: 'demo',
  SITEPATCH_SCHEDULER: 'scheduler',
  SITEPATCH_SYNC_TIME_SCALE: 'syncTimeScale',
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
    return JSON.parse(readFileSync(file, 'utf8')) as SettingsInput;
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
  return { ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) };
}
