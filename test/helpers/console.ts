// Starts the console against a temporary data directory, with its log captured, and a small
// cookie-aware client for its REST API.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { loadSettings, type SettingsInput } from '../../src/config/settings.js';
import { startConsole, type RunningConsole } from '../../src/server/runtime.js';
import { createTestDatabase, type TestStore } from './postgres.js';

export const ADMIN_PASSWORD = 'correct-horse-battery-staple';

export interface TestConsole {
  running: RunningConsole;
  dataDir: string;
  /** Everything the server logged. */
  log: () => string;
  close(): Promise<void>;
}

/**
 * A console on a temporary data directory (or `dataDir`, which it then leaves in place). With
 * `store: 'postgres'` it runs on a PostgreSQL database of its own (dropped on close), with a worker
 * in the process.
 */
export async function startTestConsole(settings: SettingsInput = {}, dataDir?: string, { store = 'embedded' }: { store?: TestStore } = {}): Promise<TestConsole> {
  const ownDir = !dataDir;
  dataDir ??= mkdtempSync(path.join(os.tmpdir(), 'sitepatch-console-'));
  let log = '';
  const logStream = new Writable({ write(chunk, _enc, done) { log += chunk.toString(); done(); } });
  const database = store === 'postgres' ? await createTestDatabase() : undefined;
  const onStore = database ? { databaseUrl: database.url, masterKey: randomBytes(32).toString('base64') } : {};
  const running = await startConsole(loadSettings({ dataDir, port: 0, adminPassword: ADMIN_PASSWORD, logLevel: 'debug', scheduler: false, ...onStore, ...settings }, {}), { logStream })
    .catch(async (e: Error) => {
      await database?.drop();
      throw e;
    });
  return {
    running, dataDir, log: () => log,
    async close() {
      await running.close();
      await database?.drop();
      if (ownDir) rmSync(dataDir!, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** A signed-in (or anonymous) API client; keeps every response text for secret scans. */
export class ApiClient {
  /** The cookies the console set, by name. */
  readonly cookies = new Map<string, string>();
  csrf = '';
  readonly transcript: string[] = [];
  /** Set to send from another local address, for instance. */
  dispatcher?: Dispatcher;

  constructor(readonly baseUrl: string, readonly bearer?: string) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const response = await request(`${this.baseUrl}${path}`, {
      method: method as 'GET',
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      dispatcher: this.dispatcher,
    });
    const text = await response.body.text();
    this.transcript.push(text, JSON.stringify(response.headers));
    const setCookie = response.headers['set-cookie'];
    for (const line of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const cleared = /max-age=0|expires=thu, 01 jan 1970/i.test(line) || at === pair.length - 1;
      if (cleared) this.cookies.delete(pair.slice(0, at));
      else this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    let parsed: unknown;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    return { status: response.statusCode, headers: response.headers, text, body: parsed };
  }

  async login(username = 'admin', password = ADMIN_PASSWORD, totpCode?: string): Promise<ApiResponse> {
    const response = await this.call('POST', '/api/v1/auth/login', { username, password, ...(totpCode ? { totpCode } : {}) });
    if (response.status === 200) this.csrf = response.body.csrfToken;
    return response;
  }
}

export interface ConsoleProcess {
  url: string;
  child: ChildProcess;
}

/** Runs `sitepatch serve` as a separate process (for kill tests); resolves once it listens. */
export async function spawnConsole(dataDir: string, env: Record<string, string>): Promise<ConsoleProcess> {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/sitepatch.js');
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { ...process.env, SITEPATCH_ADMIN_PASSWORD: ADMIN_PASSWORD, SITEPATCH_SCHEDULER: 'false', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let banner = '';
  for await (const chunk of child.stderr!) {
    banner += chunk;
    const match = /SitePatch console: (http\S+)/.exec(banner);
    if (match) return { url: match[1], child };
  }
  throw new Error(`sitepatch serve exited before listening: ${banner}`);
}
