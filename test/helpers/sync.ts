// Drives syncs through the console's REST API and waits for their outcome.

import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole, type TestConsole } from './console.js';
import { EmulatorClient } from './emulator-client.js';
import type { TestStore } from './postgres.js';

export async function connectEmulator(api: ApiClient, emulator: RunningEmulator, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await api.call('POST', '/api/v1/connections', {
    name: 'Emulated tenant', cloud: 'custom', loginUrl: emulator.loginUrl, apiUrl: emulator.apiUrl,
    tenantId: emulator.tenantId, clientId: emulator.apps.consented.clientId, clientSecret: emulator.apps.consented.secretValue, ...extra,
  });
  if (response.status !== 201) throw new Error(`could not connect the emulator: ${response.text}`);
  return response.body.id;
}

export async function waitForRun(api: ApiClient, runId: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await api.call('GET', `/api/v1/sync-runs/${runId}`)).body;
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} (${run.phase})`);
    await sleep(100);
  }
}

export async function sync(api: ApiClient, connectionId: string, kind: 'full' | 'delta' | 'auto' = 'auto'): Promise<any> {
  const response = await api.call('POST', `/api/v1/connections/${connectionId}/sync`, { kind });
  if (response.status !== 202) throw new Error(`sync request failed: ${response.text}`);
  return waitForRun(api, response.body.runId);
}

/** Every finding of a connection with a status, through the paged API. */
export async function allFindings(api: ApiClient, connectionId: string, status: 'open' | 'fixed' = 'open'): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (await api.call('GET', `/api/v1/findings?connectionId=${connectionId}&status=${status}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).body;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export async function openTotal(api: ApiClient, connectionId: string): Promise<number> {
  return (await api.call('GET', `/api/v1/findings?connectionId=${connectionId}&status=open&limit=1`)).body.total;
}

export interface SyncFixture {
  emulator: RunningEmulator;
  /** Talks to the emulator directly, for its ground truth. */
  raw: EmulatorClient;
  console: TestConsole;
  /** Signed in as the administrator. */
  api: ApiClient;
  /** A connection to the emulator's first tenant. */
  connectionId: string;
  close(): Promise<void>;
}

/**
 * An emulator, a console that trusts it (both at `timeScale`), a signed-in administrator and a
 * connection to the emulator; the console on the embedded store or (`store`) on PostgreSQL.
 */
export async function startSyncFixture(options: EmulatorOptions & { timeScale: number; store?: TestStore }): Promise<SyncFixture> {
  const emulator = await startEmulator(options);
  const raw = new EmulatorClient(emulator);
  const console_ = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: options.timeScale }, undefined, { store: options.store });
  const api = new ApiClient(console_.running.url);
  await api.login();
  return {
    emulator, raw, console: console_, api, connectionId: await connectEmulator(api, emulator),
    async close() {
      await console_.close();
      await raw.dispatcher.close();
      await emulator.close();
    },
  };
}

/** Imports every vendor feed the console is set up for, through the API, and waits for it. */
export async function importContent(api: ApiClient): Promise<void> {
  const started = await api.call('POST', '/api/v1/content/imports', { source: 'all' });
  if (started.status !== 202) throw new Error(`the content import was refused: ${started.text}`);
  for (;;) {
    const status = (await api.call('GET', `/api/v1/content/imports/${started.body.importId}`)).body;
    if (status.status === 'failed') throw new Error(`the content import failed: ${status.error}`);
    if (status.status === 'succeeded') return;
    await sleep(100);
  }
}
