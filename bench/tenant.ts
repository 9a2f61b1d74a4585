// What the benchmarks share: the emulator as a separate process serving one tenant of N devices
// over loopback, a Defender token from it, and SitePatch's real sync into a data directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { loadSettings } from '../src/config/settings.js';
import { openServices, type Services } from '../src/server/runtime.js';
import type { RunResult } from '../src/sync/engine.js';
import type { FeedUrls } from '../src/content/importers/context.js';

/** The `sitepatch` command (bin/sitepatch.js), run with this Node. */
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/sitepatch.js');

/** This process's peak resident set so far, in MB. */
export const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** What `sitepatch emulator` prints on its first line. */
export interface EmulatorInfo {
  loginUrl: string;
  apiUrl: string;
  /** The vendor feeds it serves, as SitePatch's feed settings. */
  feeds: FeedUrls;
  tenantId: string;
  caFile: string;
  apps: { consented: { clientId: string; secretValue: string } };
  [key: string]: unknown;
}

export interface EmulatorProcess {
  info: EmulatorInfo;
  child: ChildProcess;
  /** Trusts the emulator's CA. */
  dispatcher: Agent;
  get(url: string, token?: string): ReturnType<typeof request>;
  /** An app token for the Defender API (client credentials of the consented app). */
  defenderToken(): Promise<string>;
  /** Moves the tenant forward (one snapshot per 6 hours). */
  advance(hours: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts `sitepatch emulator` as its own process (so its generation work and memory are not this
 * process's) and resolves once it has printed its URLs.
 */
export async function startEmulatorProcess(devices: number, stateDir: string): Promise<EmulatorProcess> {
  // Patching every ~110 days on average (450 snapshots) makes one 6-hour advance change about 1% of
  // the findings (1.1% measured), at about 50 findings a device: 1M at 20,000 devices.
  const child = spawn(process.execPath, [BIN, 'emulator', '--devices', String(devices), '--seed', 'bench', '--no-rate-limits',
    '--patch-cadence', '450', '--devices-per-part', '2000', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const exitedEarly = exited.then(([code]): never => { throw new Error(`sitepatch emulator exited (code ${code}) before it listened`); });
  exitedEarly.catch(() => {}); // only the race below reports it
  const [line] = await Promise.race([once(readline.createInterface({ input: child.stdout! }), 'line'), exitedEarly]);
  const info = JSON.parse(line as string) as EmulatorInfo;
  const dispatcher = new Agent({ connect: { ca: readFileSync(info.caFile, 'utf8') } });
  const get = (url: string, token?: string) => request(url, { dispatcher, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return {
    info, child, dispatcher, get,
    async defenderToken() {
      const response = await request(`${info.loginUrl}/${info.tenantId}/oauth2/v2.0/token`, {
        method: 'POST', dispatcher, headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: info.apps.consented.clientId, client_secret: info.apps.consented.secretValue, scope: 'https://api.securitycenter.microsoft.com/.default' }).toString(),
      });
      return ((await response.body.json()) as { access_token: string }).access_token;
    },
    async advance(hours: number) {
      const response = await request(`${info.apiUrl}/_emulator/advance`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hours }) });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`the emulator refused to advance (HTTP ${response.statusCode})`);
    },
    async close() {
      await dispatcher.close();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** SitePatch's services on `dataDir`, trusting the emulator, with no scheduler and no log. */
export function openBenchServices(dataDir: string, emulator: EmulatorProcess): Promise<Services> {
  return openServices(loadSettings({ dataDir, extraCaFile: emulator.info.caFile, scheduler: false, logLevel: 'silent' }, {}));
}

export interface BenchConnection {
  connectionId: string;
  /** Runs one sync through the sync service (queue, engine, read models) and waits for its result. */
  sync(kind: 'full' | 'delta'): Promise<RunResult>;
}

/** Creates the connection to the emulated tenant, as an admin would. */
export async function connectToEmulator(services: Services, emulator: EmulatorProcess): Promise<BenchConnection> {
  const { info } = emulator;
  const connection = await services.connections.create({
    name: 'bench', cloud: 'custom', loginUrl: info.loginUrl, apiUrl: info.apiUrl, tenantId: info.tenantId,
    clientId: info.apps.consented.clientId, clientSecret: info.apps.consented.secretValue,
  }, 'bench');
  return {
    connectionId: connection.id,
    sync: (kind) => new Promise<RunResult>((resolve) => {
      const stop = services.sync.onFinished((_id, result) => { stop(); resolve(result); });
      void services.sync.request(connection.id, kind, 'bench');
    }),
  };
}

/** Seconds since `started` (a performance.now() value). */
export const secondsSince = (started: number) => (performance.now() - started) / 1000;
