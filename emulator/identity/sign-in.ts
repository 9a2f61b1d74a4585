// Entra ID's interactive sign-in for web apps (OpenID Connect authorization code flow): the
// authorize endpoint and its sign-in page, the browser session a sign-in leaves behind (single
// sign-on, prompt=none), and sign-out. The codes it issues are redeemed at the token endpoint.

import { createHash, randomUUID } from 'node:crypto';
import type { EmulatorRequest, Reply, Route } from '../http.js';
import {
  AadstsError, appDisabled, appNotFound, errorDescription, requestTrace, findTenant, missingParameter, securityHeaders, type RequestTrace,
} from './aadsts.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import { assignedRoles, type AppRegistration, type Directory, type DirectoryTenant, type DirectoryUser } from './directory.js';

export interface SignInServiceOptions {
  directory: Directory;
  codes: AuthorizationCodes;
  unknownTenantError: string;
  descriptionSeparator: string;
  now: () => number;
}

const SESSION_COOKIE = 'ESTSAUTH';
const SESSION_MS = 24 * 3600_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const RESPONSE_MODES = ['query', 'fragment', 'form_post'] as const;
type ResponseMode = (typeof RESPONSE_MODES)[number];
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const GRAPH_SCOPE = /^(https:\/\/graph\.microsoft\.com\/)?(User\.Read|\.default)$/i;

/** Where the answer goes. Known only once the app and its redirect URI check out: errors before that are shown on the page. */
interface Target {
  tenant: DirectoryTenant;
  app: AppRegistration;
  redirectUri: string;
  responseMode: ResponseMode;
  state: string | null;
}

/** The rest of the authorize request; its errors are sent back to the app. */
interface Flow {
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod: 'S256' | 'plain';
  prompt: string | null;
  loginHint: string | null;
}

interface Session {
  id: string;
  tenantId: string;
  userObjectId: string;
  createdAt: number;
}

/** Whether `uri` matches a registered redirect URI, or only its origin; the port of a loopback URI is ignored (RFC 8252 §7.3). */
export function matchesRedirectUri(app: AppRegistration, uri: string, match: 'uri' | 'origin'): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return app.redirectUris.some((registered) => {
    const r = new URL(registered);
    const port = r.port === url.port || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    const rest = match === 'origin' || (r.pathname === url.pathname && r.search === url.search && !url.hash);
    return r.protocol === url.protocol && r.hostname === url.hostname && port && rest;
  });
}

const STYLE = 'body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0}'
  + 'main{max-width:440px;margin:10vh auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}'
  + 'h1{font-size:24px;font-weight:600;margin:0 0 12px}.tenant{font-weight:600;color:#333}'
  + 'input{display:block;width:100%;box-sizing:border-box;margin:0 0 16px;padding:6px 0;border:0;border-bottom:1px solid #666;font-size:15px}'
  + 'button{background:#0067b8;color:#fff;border:0;padding:6px 24px;font-size:15px;min-width:108px}'
  + '.error{color:#e81123}.detail{font-size:12px;color:#666;word-break:break-word}';
const AUTO_SUBMIT = 'document.forms[0].submit();';
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A self-contained page: inline style (and script) allowed by hash, nothing loaded from elsewhere. */
function htmlPage(status: number, trace: RequestTrace, title: string, main: string, options: { formAction?: string[]; autoSubmit?: boolean; headers?: Record<string, string> } = {}): Reply {
  const csp = [
    "default-src 'none'",
    `style-src ${sha256(STYLE)}`,
    ...(options.autoSubmit ? [`script-src ${sha256(AUTO_SUBMIT)}`] : []),
    `form-action ${options.formAction?.join(' ') ?? "'none'"}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  const script = options.autoSubmit ? `<script>${AUTO_SUBMIT}</script>` : '';
  return {
    status,
    headers: {
      ...securityHeaders(trace.traceId),
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      ...options.headers,
    },
    body: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
      + `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${main}</main>${script}</body></html>`,
  };
}

function cookie(req: EmulatorRequest, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export function createSignInService(options: SignInServiceOptions): Route[] {
  const { directory, codes } = options;
  const sessions = new Map<string, Session>();

  function target(req: EmulatorRequest): Target {
    const params = req.url.searchParams;
    const segment = req.params.tenant ?? '';
    const clientId = params.get('client_id');
    const multiTenant = ['common', 'organizations'].includes(segment.toLowerCase());
    const tenant = multiTenant ? undefined : findTenant(directory, segment, options.unknownTenantError);
    if (!clientId) throw missingParameter('client_id');
    if (!tenant) {
      // Every app here is single-tenant, as app registrations are by default.
      const app = directory.tenants.flatMap((t) => t.apps).find((a) => a.clientId === clientId.toLowerCase());
      if (!app) throw appNotFound(clientId, segment);
      throw new AadstsError(400, 'invalid_request', 50194,
        `Application '${app.clientId}'(${app.displayName}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.`);
    }
    const app = tenant.apps.find((a) => a.clientId === clientId.toLowerCase());
    if (!app) throw appNotFound(clientId, tenant.displayName);
    if (!app.enabled) throw appDisabled(app.clientId, app.displayName);
    const redirectUri = params.get('redirect_uri');
    if (!redirectUri) throw missingParameter('redirect_uri');
    if (!matchesRedirectUri(app, redirectUri, 'uri')) {
      throw new AadstsError(400, 'invalid_request', 50011,
        `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`);
    }
    const mode = params.get('response_mode');
    const responseMode = RESPONSE_MODES.find((m) => m === mode) ?? 'query';
    return { tenant, app, redirectUri, responseMode, state: params.get('state') };
  }

  function flow(req: EmulatorRequest): Flow {
    const params = req.url.searchParams;
    const mode = params.get('response_mode');
    if (mode !== null && !RESPONSE_MODES.some((m) => m === mode)) {
      throw new AadstsError(400, 'invalid_request', 70007, `The provided value '${mode}' for the input parameter 'response_mode' is not supported.`);
    }
    const responseType = params.get('response_type');
    if (!responseType) throw missingParameter('response_type');
    if (responseType !== 'code') {
      const types = responseType.split(' ');
      if (types.some((t) => !['code', 'id_token', 'token'].includes(t))) {
        throw new AadstsError(400, 'unsupported_response_type', 70005, `The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code'.`);
      }
      // Implicit grant and hybrid flow are off in the app registration (the default).
      const implicit = types.includes('token') ? 'token' : 'id_token';
      throw new AadstsError(400, 'unsupported_response_type', implicit === 'token' ? 700051 : 700054, `response_type '${implicit}' is not enabled for the application.`);
    }
    const scope = params.get('scope');
    if (!scope?.trim()) throw missingParameter('scope');
    const scopes = scope.trim().split(/\s+/);
    const invalid = scopes.find((s) => !OIDC_SCOPES.has(s.toLowerCase()) && !GRAPH_SCOPE.test(s));
    if (invalid) throw new AadstsError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${invalid} is not valid.`);
    const codeChallenge = params.get('code_challenge') ?? undefined;
    const method = params.get('code_challenge_method');
    if (method !== null && !codeChallenge) throw missingParameter('code_challenge');
    if (method !== null && method !== 'S256' && method !== 'plain') throw new AadstsError(400, 'invalid_request', 50149, 'Invalid Code_Challenge_method parameter.');
    // Without a method the challenge is the verifier itself (RFC 7636 §4.3).
    const codeChallengeMethod = method ?? 'plain';
    const length = codeChallenge?.length ?? 43;
    if (codeChallengeMethod === 'S256' ? length !== 43 : length < 43 || length > 128) {
      throw new AadstsError(400, 'invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
    }
    return {
      scopes, codeChallenge, codeChallengeMethod,
      nonce: params.get('nonce') ?? undefined,
      prompt: params.get('prompt'),
      loginHint: params.get('login_hint'),
    };
  }

  /** Sends fields to the app's redirect URI in the requested response mode. */
  function deliver(req: EmulatorRequest, t: Target, fields: Record<string, string>, headers: Record<string, string> = {}): Reply {
    const all = t.state === null ? fields : { ...fields, state: t.state };
    if (t.responseMode === 'form_post') {
      const inputs = Object.entries(all).map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('');
      return htmlPage(200, requestTrace(req, options.now()), 'Working...',
        `<form method="post" action="${escapeHtml(t.redirectUri)}">${inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><button type="submit">Submit</button></noscript></form>`,
        { formAction: [new URL(t.redirectUri).origin], autoSubmit: true, headers });
    }
    const location = new URL(t.redirectUri);
    const encoded = new URLSearchParams(all);
    if (t.responseMode === 'fragment') location.hash = encoded.toString();
    else for (const [name, value] of encoded) location.searchParams.append(name, value);
    return { status: 302, headers: { ...securityHeaders(randomUUID()), location: location.toString(), ...headers } };
  }

  function errorRedirect(req: EmulatorRequest, t: Target, e: AadstsError): Reply {
    const trace = requestTrace(req, options.now());
    return deliver(req, t, {
      error: e.error,
      error_description: errorDescription(e, trace, options.descriptionSeparator),
      error_uri: `${req.url.origin}/error?code=${e.code}`,
    });
  }

  /** Entra's "Sorry, but we're having trouble signing you in." page: nothing goes back to the app. */
  function errorPage(req: EmulatorRequest, e: AadstsError, tenantName = 'Microsoft', headers: Record<string, string> = {}): Reply {
    const trace = requestTrace(req, options.now());
    return htmlPage(400, trace, 'Sign in to your account',
      `<p class="tenant">${escapeHtml(tenantName)}</p><h1>Sign in</h1><p class="error" role="alert">Sorry, but we’re having trouble signing you in.</p>`
      + `<p id="errorMessage">AADSTS${e.code}: ${escapeHtml(e.message)}</p>`
      + `<p class="detail">Request Id: ${trace.traceId}<br>Correlation Id: ${trace.correlationId}<br>Timestamp: ${trace.timestamp}</p>`,
      { headers });
  }

  function signInPage(req: EmulatorRequest, t: Target, username: string, problem?: { text: string; code: number; message: string }): Reply {
    const action = req.url.pathname + req.url.search;
    const error = problem
      ? `<div id="passwordError" class="error" role="alert">${escapeHtml(problem.text)}</div><p class="detail">AADSTS${problem.code}: ${escapeHtml(problem.message)}</p>`
      : '';
    return htmlPage(200, requestTrace(req, options.now()), 'Sign in to your account',
      `<p class="tenant">${escapeHtml(t.tenant.displayName)}</p><h1>Sign in</h1><p>to continue to ${escapeHtml(t.app.displayName)}</p>`
      + `<form method="post" action="${escapeHtml(action)}">`
      + `<input type="email" name="loginfmt" id="loginfmt" value="${escapeHtml(username)}" placeholder="Email, phone, or Skype" aria-label="Email, phone, or Skype" autocomplete="username" required>`
      + `<input type="password" name="passwd" id="passwd" placeholder="Password" aria-label="Password" autocomplete="current-password" required>`
      + `${error}<button type="submit" id="idSIButton9">Sign in</button></form>`,
      { formAction: ["'self'", new URL(t.redirectUri).origin] });
  }

  function sessionOf(req: EmulatorRequest, tenant: DirectoryTenant): { session: Session; user: DirectoryUser } | undefined {
    const id = cookie(req, SESSION_COOKIE);
    const session = id ? sessions.get(id) : undefined;
    if (!session || session.tenantId !== tenant.id || options.now() - session.createdAt > SESSION_MS) return undefined;
    const user = tenant.users.find((u) => u.objectId === session.userObjectId);
    return user && { session, user };
  }

  function startSession(tenant: DirectoryTenant, user: DirectoryUser): { session: Session; setCookie: string } {
    const now = options.now();
    for (const [id, s] of sessions) if (now - s.createdAt > SESSION_MS) sessions.delete(id);
    const session = { id: randomUUID(), tenantId: tenant.id, userObjectId: user.objectId, createdAt: now };
    sessions.set(session.id, session);
    return { session, setCookie: `${SESSION_COOKIE}=${session.id}; path=/; secure; HttpOnly; SameSite=None` };
  }

  /** The signed-in user's answer: a code, unless the app only lets assigned users in. */
  function complete(req: EmulatorRequest, t: Target, f: Flow, user: DirectoryUser, session: Session, headers: Record<string, string> = {}): Reply {
    if (t.app.assignmentRequired && assignedRoles(user, t.app).length === 0) {
      return errorPage(req, new AadstsError(400, 'invalid_request', 50105,
        `Your administrator has configured the application ${t.app.displayName} ('${t.app.clientId}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '{EmailHidden}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.`),
      t.tenant.displayName, headers);
    }
    const code = codes.issue({
      tenantId: t.tenant.id, clientId: t.app.clientId, redirectUri: t.redirectUri, scopes: f.scopes, nonce: f.nonce,
      codeChallenge: f.codeChallenge, codeChallengeMethod: f.codeChallengeMethod, userObjectId: user.objectId, sessionId: session.id,
    });
    return deliver(req, t, { code }, headers);
  }

  /** Validates an authorize request; `then` answers a valid one. */
  function withRequest(req: EmulatorRequest, then: (t: Target, f: Flow) => Reply): Reply {
    let t: Target;
    try {
      t = target(req);
    } catch (e) {
      if (e instanceof AadstsError) return errorPage(req, e);
      throw e;
    }
    try {
      return then(t, flow(req));
    } catch (e) {
      if (e instanceof AadstsError) return errorRedirect(req, t, e);
      throw e;
    }
  }

  function authorize(req: EmulatorRequest): Reply {
    return withRequest(req, (t, f) => {
      const current = sessionOf(req, t.tenant);
      if (f.prompt === 'none') {
        if (!current) throw new AadstsError(400, 'login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');
        return complete(req, t, f, current.user, current.session);
      }
      if (current && f.prompt !== 'login' && f.prompt !== 'select_account') return complete(req, t, f, current.user, current.session);
      return signInPage(req, t, f.loginHint ?? current?.user.userPrincipalName ?? '');
    });
  }

  /** The sign-in form posts back to the authorize URL it was served from. */
  function submitCredentials(req: EmulatorRequest): Reply {
    return withRequest(req, (t, f) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const username = (form.get('loginfmt') ?? '').trim();
      const user = t.tenant.users.find((u) => u.userPrincipalName.toLowerCase() === username.toLowerCase());
      if (!user) {
        return signInPage(req, t, username, {
          text: 'This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.',
          code: 50034,
          message: `The user account {EmailHidden} does not exist in the '${t.tenant.id}' directory. To sign into this application, the account must be added to the directory.`,
        });
      }
      if (form.get('passwd') !== user.password) {
        return signInPage(req, t, username, {
          text: 'Your account or password is incorrect.',
          code: 50126,
          message: 'Error validating credentials due to invalid username or password.',
        });
      }
      const { session, setCookie } = startSession(t.tenant, user);
      return complete(req, t, f, user, session, { 'set-cookie': setCookie });
    });
  }

  function logout(req: EmulatorRequest): Reply {
    const segment = req.params.tenant ?? '';
    let tenants: DirectoryTenant[];
    try {
      tenants = ['common', 'organizations'].includes(segment.toLowerCase()) ? directory.tenants : [findTenant(directory, segment, options.unknownTenantError)];
    } catch (e) {
      if (e instanceof AadstsError) return errorPage(req, e);
      throw e;
    }
    const id = cookie(req, SESSION_COOKIE);
    if (id) sessions.delete(id);
    const headers = { 'set-cookie': `${SESSION_COOKIE}=; path=/; secure; HttpOnly; SameSite=None; Max-Age=0` };
    const next = req.url.searchParams.get('post_logout_redirect_uri');
    if (next && tenants.some((t) => t.apps.some((app) => matchesRedirectUri(app, next, 'origin')))) {
      return { status: 302, headers: { ...securityHeaders(randomUUID()), location: next, ...headers } };
    }
    return htmlPage(200, requestTrace(req, options.now()), 'Sign out',
      '<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>', { headers });
  }

  return [
    { method: 'GET', path: '/:tenant/oauth2/v2.0/authorize', handle: authorize },
    { method: 'POST', path: '/:tenant/oauth2/v2.0/authorize', handle: submitCredentials },
    { method: 'GET', path: '/:tenant/oauth2/v2.0/logout', handle: logout },
  ];
}
