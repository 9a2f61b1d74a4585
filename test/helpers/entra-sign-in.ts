// Drives the emulator's Entra ID sign-in page over plain HTTPS, as a browser would: open the
// authorize URL, post the username and password back to its form, and read what the app would
// receive at its redirect URI (a 302 with ?code=…&state=…, or an auto-submitting form_post page).

import { request, type Dispatcher } from 'undici';
import type { RunningEmulator } from '../../emulator/server.js';

export interface BrowserStep {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  html: string;
  /** The redirect's Location, when the step is a redirect. */
  location?: string;
  /** The URL this step answered. */
  url: string;
}

export interface Credentials {
  username: string;
  password: string;
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decodeEntities(match[1]) : undefined;
}

/** The session cookie (name=value) a step sets, to send with the next request for single sign-on. */
export function sessionCookie(step: BrowserStep): string | undefined {
  const setCookie = step.headers['set-cookie'];
  const first = [setCookie ?? []].flat().find((c) => c.startsWith('ESTSAUTH='));
  return first?.split(';')[0];
}

async function send(dispatcher: Dispatcher, method: 'GET' | 'POST', url: string, options: { body?: string; cookie?: string } = {}): Promise<BrowserStep> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const response = await request(url, { method, headers, body: options.body, dispatcher });
  const html = await response.body.text();
  const location = response.headers.location;
  return { status: response.statusCode, headers: response.headers, html, location: typeof location === 'string' ? location : undefined, url };
}

/** GET the authorize URL: the sign-in page, an error page, or (with a session) straight a redirect. */
export function openAuthorize(dispatcher: Dispatcher, authorizeUrl: string, cookie?: string): Promise<BrowserStep> {
  return send(dispatcher, 'GET', authorizeUrl, { cookie });
}

/** Fills in the sign-in page's form (inputs loginfmt and passwd) and posts it. */
export function submitCredentials(dispatcher: Dispatcher, page: BrowserStep, credentials: Credentials): Promise<BrowserStep> {
  const form = /<form\b[^>]*>/.exec(page.html)?.[0];
  const action = form && attribute(form, 'action');
  if (!action || !/name="loginfmt"/.test(page.html)) throw new Error(`not a sign-in page (HTTP ${page.status}): ${pageMessage(page) ?? page.html.slice(0, 300)}`);
  const body = new URLSearchParams({ loginfmt: credentials.username, passwd: credentials.password }).toString();
  return send(dispatcher, 'POST', new URL(action, page.url).toString(), { body });
}

/** The error a page shows (wrong password, AADSTS error page), if any. */
export function pageMessage(step: BrowserStep): string | undefined {
  const match = /<(?:div|p) id="(?:passwordError|errorMessage)"[^>]*>(.*?)<\/(?:div|p)>/s.exec(step.html);
  const detail = /<p class="detail">(AADSTS\d+:.*?)<\/p>/s.exec(step.html);
  return match ? decodeEntities([match[1], detail?.[1]].filter(Boolean).join(' ')) : undefined;
}

/**
 * What the app receives at its redirect URI after a step: the redirect's query (or fragment)
 * parameters, or the fields of a form_post page. Undefined when the step sends nothing to the app.
 */
export function callbackOf(step: BrowserStep): { redirectUri: string; params: URLSearchParams } | undefined {
  if (step.status === 302 && step.location) {
    const url = new URL(step.location);
    const params = new URLSearchParams(url.hash ? url.hash.slice(1) : url.search);
    url.search = '';
    url.hash = '';
    return { redirectUri: url.toString(), params };
  }
  const form = /<form method="post" action="([^"]*)">(.*?)<\/form>/s.exec(step.html);
  if (step.status !== 200 || !form || !/<script>/.test(step.html)) return undefined;
  const params = new URLSearchParams();
  for (const input of form[2].match(/<input type="hidden"[^>]*>/g) ?? []) params.append(attribute(input, 'name')!, attribute(input, 'value')!);
  return { redirectUri: decodeEntities(form[1]), params };
}

/**
 * Signs a test user in through the page and returns the authorization code, the state and the
 * session cookie; throws with the page's message when the page does not send a code.
 */
export async function signInThroughPage(dispatcher: Dispatcher, authorizeUrl: string, credentials: Credentials): Promise<{
  code: string; state: string | null; redirectUri: string; cookie?: string;
}> {
  const page = await openAuthorize(dispatcher, authorizeUrl);
  const answer = await submitCredentials(dispatcher, page, credentials);
  const callback = callbackOf(answer);
  const code = callback?.params.get('code');
  if (!callback || !code) {
    throw new Error(`the sign-in page sent no code (HTTP ${answer.status}): ${pageMessage(answer) ?? callback?.params.toString() ?? answer.html.slice(0, 300)}`);
  }
  return { code, state: callback.params.get('state'), redirectUri: callback.redirectUri, cookie: sessionCookie(answer) };
}

/** Console settings that sign in with the emulator's "SitePatch console" app (and trust its CA). */
export function entraSignInSettings(emulator: RunningEmulator) {
  return {
    extraCaFile: emulator.caFile,
    entraTenantId: emulator.tenantId, entraClientId: emulator.signInApp.clientId, entraClientSecret: emulator.signInApp.secretValue, entraLoginUrl: emulator.loginUrl,
  };
}
