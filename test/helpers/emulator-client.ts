// A plain HTTPS client for tests that talk to the emulator: trusts its CA, exposes raw responses.

import { gunzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { startEmulator, type AppCredentials, type EmulatorOptions, type RunningEmulator } from '../../emulator/server.js';

export const DEFENDER_SCOPE = 'https://api.securitycenter.microsoft.com/.default';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: <T = any>() => T;
}

export class EmulatorClient {
  readonly dispatcher: Agent;

  constructor(readonly emulator: RunningEmulator) {
    this.dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  }

  url(pathOrUrl: string): string {
    return pathOrUrl.startsWith('https://') ? pathOrUrl : `${this.emulator.apiUrl}${pathOrUrl}`;
  }

  async send(method: 'GET' | 'POST' | 'DELETE', pathOrUrl: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
    const response = await request(this.url(pathOrUrl), { method, headers: options.headers, body: options.body, dispatcher: this.dispatcher });
    const body = Buffer.from(await response.body.arrayBuffer());
    const text = body.toString('utf8');
    return { status: response.statusCode, headers: response.headers, body, text, json: () => JSON.parse(text) };
  }

  get(pathOrUrl: string, token?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    return this.send('GET', pathOrUrl, { headers: token ? { authorization: `Bearer ${token}`, ...headers } : headers });
  }

  postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
    return this.send('POST', path, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  postJson(path: string, value: unknown): Promise<RawResponse> {
    return this.send('POST', path, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
  }

  tokenRequest(app: Pick<AppCredentials, 'clientId'> & { secret: string }, extra: Record<string, string> = {}, tenant = this.emulator.tenantId): Promise<RawResponse> {
    return this.postForm(`/${tenant}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.secret, scope: DEFENDER_SCOPE, ...extra,
    });
  }

  async token(app: AppCredentials = this.emulator.apps.consented, tenant = this.emulator.tenantId): Promise<string> {
    const response = await this.tokenRequest({ clientId: app.clientId, secret: app.secretValue }, {}, tenant);
    if (response.status !== 200) throw new Error(`token request failed: ${response.text}`);
    return response.json().access_token as string;
  }

  /** Follows @odata.nextLink to the end; returns every row and the links followed. */
  async pages(firstUrl: string, token: string): Promise<{ rows: any[]; links: string[] }> {
    const rows: any[] = [];
    const links: string[] = [];
    let next: string | undefined = firstUrl;
    while (next) {
      const response = await this.get(next, token);
      if (response.status !== 200) throw new Error(`GET ${next} answered ${response.status}: ${response.text}`);
      const page = response.json();
      rows.push(...page.value);
      next = page['@odata.nextLink'];
      if (next) {
        if (links.includes(next)) throw new Error(`next link repeated: ${next}`);
        links.push(next);
      }
    }
    return { rows, links };
  }

  async exportFileRows(token: string): Promise<{ rows: any[]; files: string[]; generatedTime: string }> {
    const response = await this.get('/api/machines/SoftwareVulnerabilitiesExport', token);
    const { exportFiles, generatedTime } = response.json();
    const rows: any[] = [];
    for (const file of exportFiles as string[]) {
      const blob = await this.get(file);
      if (blob.status !== 200) throw new Error(`GET ${file} answered ${blob.status}`);
      for (const line of gunzipSync(blob.body).toString('utf8').split('\n')) if (line) rows.push(JSON.parse(line));
    }
    return { rows, files: exportFiles, generatedTime };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
    await this.emulator.close();
  }
}

export async function emulatorClient(options: EmulatorOptions = {}): Promise<EmulatorClient> {
  return new EmulatorClient(await startEmulator({ devices: 12, seed: 'test', ...options }));
}

export function decodeJwt(token: string): { header: any; payload: any } {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}
