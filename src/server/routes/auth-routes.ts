// Sign-in (local with optional TOTP, or Entra ID), first-run setup, the session, sign-out, one's
// own sessions, password change and TOTP enrolment. Every sign-in, failed or not, is audited.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntraSignInError, type EntraSignIn } from '../../entra/sign-in.js';
import { AccountError, type Accounts, type Origin, type SignedIn } from '../../users/accounts.js';
import type { AuditLog } from '../../users/audit.js';
import { entraRole, entraScope, type EntraRoleMap } from '../../users/entra-roles.js';
import type { Principal } from '../../users/principal.js';
import type { SignInRequests } from '../../users/sign-in-requests.js';
import { actorOf, apiError, DEVICE_COOKIE, principalOf, SESSION_COOKIE } from '../auth.js';
import { SIGN_IN_RATE } from '../hardening.js';

const OIDC_COOKIE = 'sitepatch_oidc';
const ENTRA_PATH = '/api/v1/auth/entra';
const DEVICE_COOKIE_DAYS = 180;

const credentialsSchema = {
  type: 'object',
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 },
    totpCode: { type: 'string', maxLength: 16, description: 'The 6-digit code of the authenticator app, when the account has one (answered `mfa_required` otherwise).' },
  },
  additionalProperties: false,
} as const;

const scopeSchema = { type: ['array', 'null'], items: { type: 'string' }, description: 'Connection ids; null means all connections.' } as const;

export const sessionSchema = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        id: { type: 'integer' }, username: { type: 'string' }, displayName: { type: ['string', 'null'] }, role: { type: 'string', enum: ['admin', 'operator', 'analyst'] },
        source: { type: 'string', enum: ['local', 'entra'] }, connectionIds: scopeSchema,
        mfa: { type: 'object', properties: { enrolled: { type: 'boolean' }, required: { type: 'boolean' } } },
      },
    },
    csrfToken: { type: 'string' },
    mustEnrolMfa: { type: 'boolean' },
  },
} as const;

interface Credentials {
  username: string;
  password: string;
  totpCode?: string;
}

export interface EntraSignInSetup {
  /**
   * The sign-in client for a console reached at `requestOrigin` (scheme://host, the host already
   * checked against the allowed names); with a public URL set, always that one's.
   */
  client: (requestOrigin: string) => EntraSignIn;
  /** Sign-ins under way, until their callback. */
  requests: SignInRequests;
  roles: EntraRoleMap;
  /** Where Entra sends the browser back to after signing out. */
  consoleUrl: (requestOrigin: string) => string;
}

export interface AuthRouteDeps {
  accounts: Accounts;
  audit: AuditLog;
  secureCookies: boolean;
  entra?: EntraSignInSetup;
}

const ACCOUNT_STATUS = {
  throttled: 429, invalid_credentials: 401, mfa_required: 401, invalid_code: 401, not_found: 404, conflict: 409, last_admin: 409,
  mfa_required_by_policy: 409, forbidden: 403, invalid_input: 422,
} as const;

/** Answers an AccountError with its status and code; rethrows anything else. */
export function accountError(reply: FastifyReply, e: unknown) {
  if (!(e instanceof AccountError)) throw e;
  if (e.retryAfterSeconds) reply.header('retry-after', String(e.retryAfterSeconds));
  return apiError(reply, ACCOUNT_STATUS[e.code], e.code, e.message);
}

/** The address the browser reached the console under. */
const consoleOrigin = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

/** Where a sign-in attempt comes from, for the session and the throttle. */
const callerOrigin = (request: FastifyRequest): Origin => ({ address: request.ip, userAgent: request.headers['user-agent'], deviceCookie: request.cookies[DEVICE_COOKIE] });

export function registerAuthRoutes(app: FastifyInstance, deps: AuthRouteDeps): void {
  const { accounts, audit, entra } = deps;
  const cookie = { path: '/', httpOnly: true, sameSite: 'strict', secure: deps.secureCookies } as const;

  async function sessionBody(principal: Principal) {
    const user = await accounts.getUser(principal.userId);
    return {
      user: { id: user.id, username: user.username, displayName: user.displayName, role: principal.role, source: user.source, connectionIds: principal.connectionIds, mfa: user.mfa },
      csrfToken: principal.csrfToken ?? '', mustEnrolMfa: principal.mustEnrolMfa,
    };
  }

  function startSession(reply: FastifyReply, signedIn: SignedIn) {
    reply.setCookie(SESSION_COOKIE, signedIn.sessionId, { ...cookie, maxAge: signedIn.maxAgeSeconds });
    reply.setCookie(DEVICE_COOKIE, signedIn.deviceCookie, { ...cookie, path: '/api/v1/auth', maxAge: DEVICE_COOKIE_DAYS * 86_400 });
    return sessionBody(signedIn.principal);
  }

  app.post<{ Body: Credentials }>('/api/v1/auth/login', {
    config: { access: 'public', ...SIGN_IN_RATE },
    schema: { tags: ['auth'], summary: 'Sign in; sets the session cookie. 401 `mfa_required` asks for `totpCode`; 429 `throttled` says how long to wait.', body: credentialsSchema, response: { 200: sessionSchema } },
  }, async (request, reply) => {
    const username = request.body.username.trim();
    try {
      const signedIn = await accounts.login(username, request.body.password, callerOrigin(request), request.body.totpCode);
      await audit.record(actorOf(request, signedIn.principal.actor), 'user.login', 'user', signedIn.principal.username, { via: 'password', mfa: Boolean(request.body.totpCode) });
      return await startSession(reply, signedIn);
    } catch (e) {
      if (e instanceof AccountError && e.code !== 'mfa_required') await audit.record(actorOf(request, username || '(empty)'), 'user.login_failed', 'user', username, { reason: e.code });
      return accountError(reply, e);
    }
  });

  // Public, but its 401 also tells the sign-in page whether to offer first-run setup and Entra ID.
  app.get('/api/v1/auth/session', {
    config: { access: 'public' },
    schema: { tags: ['auth'], summary: 'The signed-in user and the CSRF token; 401 (with setupRequired and entraSignIn) when signed out', response: { 200: sessionSchema } },
  }, async (request, reply) => {
    if (!request.principal || request.principal.via !== 'session') {
      return apiError(reply, 401, 'unauthenticated', 'Not signed in.', { setupRequired: (await accounts.count()) === 0, entraSignIn: Boolean(entra) });
    }
    return sessionBody(request.principal);
  });

  app.post<{ Body: Credentials }>('/api/v1/auth/setup', {
    config: { access: 'public', ...SIGN_IN_RATE },
    schema: { tags: ['auth'], summary: 'First run: create the administrator and sign in (only while no account exists)', body: credentialsSchema, response: { 200: sessionSchema } },
  }, async (request, reply) => {
    let created;
    try {
      created = await accounts.createFirstAdmin(request.body.username, request.body.password);
    } catch (e) {
      return accountError(reply, e);
    }
    if (!created) return apiError(reply, 409, 'setup_done', 'The administrator already exists: sign in instead.');
    await audit.record(actorOf(request, created.username), 'user.create', 'user', created.username, { via: 'first-run setup', role: 'admin' });
    const signedIn = await accounts.login(created.username, request.body.password, callerOrigin(request));
    await audit.record(actorOf(request, created.username), 'user.login', 'user', created.username, { via: 'first-run setup' });
    return startSession(reply, signedIn);
  });

  app.post('/api/v1/auth/logout', {
    config: { access: 'analyst', sessionOnly: true, duringMfaEnrolment: true },
    schema: { tags: ['auth'], summary: 'Sign out; for Entra ID users, redirectTo is where to end the Entra session too' },
  }, async (request, reply) => {
    const principal = principalOf(request);
    await accounts.logout(request.cookies[SESSION_COOKIE]!);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    await audit.record(actorOf(request), 'user.logout', 'user', principal.username);
    return { signedOut: true, ...(principal.source === 'entra' && entra ? { redirectTo: entra.client(consoleOrigin(request)).logoutUrl(`${entra.consoleUrl(consoleOrigin(request))}/`) } : {}) };
  });

  app.post<{ Body: { currentPassword: string; newPassword: string } }>('/api/v1/auth/password', {
    config: { access: 'analyst', sessionOnly: true, ...SIGN_IN_RATE },
    schema: {
      tags: ['auth'], summary: 'Change one\'s own password (local accounts); ends every other session',
      body: { type: 'object', required: ['currentPassword', 'newPassword'], properties: { currentPassword: { type: 'string', maxLength: 1024 }, newPassword: { type: 'string', maxLength: 4096 } }, additionalProperties: false },
    },
  }, async (request, reply) => {
    try {
      await accounts.changePassword(principalOf(request), request.body.currentPassword, request.body.newPassword, callerOrigin(request));
    } catch (e) {
      if (e instanceof AccountError && e.code === 'invalid_credentials') await audit.record(actorOf(request), 'user.password_change_failed', 'user', principalOf(request).username);
      return accountError(reply, e);
    }
    await audit.record(actorOf(request), 'user.password_change', 'user', principalOf(request).username, { otherSessionsEnded: true });
    return { changed: true };
  });

  app.get('/api/v1/auth/sessions', {
    config: { access: 'analyst', sessionOnly: true },
    schema: { tags: ['auth'], summary: 'One\'s own active sessions' },
  }, (request) => accounts.listSessions(principalOf(request)));

  app.delete<{ Params: { id: string } }>('/api/v1/auth/sessions/:id', {
    config: { access: 'analyst', sessionOnly: true },
    schema: { tags: ['auth'], summary: 'End one of one\'s own sessions', params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } } },
  }, async (request, reply) => {
    if (!(await accounts.endSession(principalOf(request), request.params.id))) return apiError(reply, 404, 'not_found', `There is no session ${request.params.id}.`);
    await audit.record(actorOf(request), 'session.end', 'user', principalOf(request).username, { session: request.params.id });
    return reply.code(204).send();
  });

  app.post('/api/v1/auth/sessions/end-all', {
    config: { access: 'analyst', sessionOnly: true, duringMfaEnrolment: true },
    schema: { tags: ['auth'], summary: 'Sign out everywhere: ends every session of this user, this one included' },
  }, async (request, reply) => {
    const ended = await accounts.endSessions(principalOf(request).userId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    await audit.record(actorOf(request), 'session.end_all', 'user', principalOf(request).username, { ended });
    return { ended };
  });

  app.post('/api/v1/auth/mfa/totp', {
    config: { access: 'analyst', sessionOnly: true, duringMfaEnrolment: true },
    schema: { tags: ['auth'], summary: 'Start TOTP enrolment: a new secret, its otpauth:// URI and QR code' },
  }, async (request, reply) => {
    try {
      return await accounts.startTotp(principalOf(request));
    } catch (e) {
      return accountError(reply, e);
    }
  });

  app.post<{ Body: { code: string } }>('/api/v1/auth/mfa/totp/confirm', {
    config: { access: 'analyst', sessionOnly: true, duringMfaEnrolment: true, ...SIGN_IN_RATE },
    schema: { tags: ['auth'], summary: 'Finish TOTP enrolment with a code from the app', body: { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 16 } }, additionalProperties: false } },
  }, async (request, reply) => {
    try {
      await accounts.confirmTotp(principalOf(request), request.body.code);
    } catch (e) {
      return accountError(reply, e);
    }
    await audit.record(actorOf(request), 'user.mfa_enrol', 'user', principalOf(request).username, { method: 'totp' });
    return { enrolled: true };
  });

  app.delete<{ Body: { password: string } }>('/api/v1/auth/mfa/totp', {
    config: { access: 'analyst', sessionOnly: true, ...SIGN_IN_RATE },
    schema: { tags: ['auth'], summary: 'Turn off TOTP (asks for the password)', body: { type: 'object', required: ['password'], properties: { password: { type: 'string', maxLength: 1024 } }, additionalProperties: false } },
  }, async (request, reply) => {
    try {
      await accounts.removeTotp(principalOf(request), request.body.password, callerOrigin(request));
    } catch (e) {
      return accountError(reply, e);
    }
    await audit.record(actorOf(request), 'user.mfa_remove', 'user', principalOf(request).username, { method: 'totp' });
    return reply.code(204).send();
  });

  if (entra) registerEntraRoutes(app, entra, { accounts, audit, cookie, startSession });
}

/** Sign in with Entra ID: authorization code flow with PKCE; the browser comes back to the callback. */
function registerEntraRoutes(
  app: FastifyInstance,
  entra: EntraSignInSetup,
  { accounts, audit, cookie, startSession }: { accounts: Accounts; audit: AuditLog; cookie: { secure: boolean }; startSession: (reply: FastifyReply, s: SignedIn) => Promise<unknown> },
): void {
  // Entra's redirect back is a cross-site navigation: a SameSite=Strict cookie would not come along.
  const oidcCookie = { path: ENTRA_PATH, httpOnly: true, sameSite: 'lax', secure: cookie.secure, maxAge: 600 } as const;
  const backToSignIn = (reply: FastifyReply, code: string, message: string) =>
    reply.redirect(`/?${new URLSearchParams({ signInError: code, message })}`);

  app.get(`${ENTRA_PATH}/start`, {
    config: { access: 'public', ...SIGN_IN_RATE },
    schema: { tags: ['auth'], summary: 'Sign in with Microsoft Entra ID: redirects to the Entra sign-in page' },
  }, async (request, reply) => {
    try {
      const { url, state, nonce, codeVerifier } = await entra.client(consoleOrigin(request)).start();
      await entra.requests.save(state, nonce, codeVerifier);
      reply.setCookie(OIDC_COOKIE, state, oidcCookie);
      return reply.redirect(url);
    } catch (e) {
      request.log.warn({ err: e }, 'Entra sign-in could not start');
      return backToSignIn(reply, 'entra_unavailable', e instanceof EntraSignInError ? e.message : 'Sign-in with Microsoft Entra ID is not available right now; the details are in the server log.');
    }
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(`${ENTRA_PATH}/callback`, {
    config: { access: 'public', ...SIGN_IN_RATE },
    schema: { tags: ['auth'], summary: 'Where Entra ID sends the browser back with the authorization code' },
  }, async (request, reply) => {
    const { code, state, error, error_description: description } = request.query;
    const expected = request.cookies[OIDC_COOKIE];
    reply.clearCookie(OIDC_COOKIE, { path: ENTRA_PATH });
    const fail = async (reason: string, message: string, username = '(Entra ID)') => {
      await audit.record(actorOf(request, username), 'user.login_failed', 'user', username, { via: 'entra', reason });
      return backToSignIn(reply, reason, message);
    };
    if (error) return fail(error, `Microsoft Entra ID did not sign you in: ${(description ?? error).split(/\r?\n/)[0].slice(0, 300)}`);
    // The state must be the one this browser started with: a sign-in started elsewhere is refused.
    const started = state && expected && state === expected ? await entra.requests.take(state) : undefined;
    if (!code || !started) return fail('sign_in_expired', 'The sign-in took too long or was started in another window. Sign in again.');
    let identity;
    try {
      identity = await entra.client(consoleOrigin(request)).finish({ code, codeVerifier: started.codeVerifier, nonce: started.nonce });
    } catch (e) {
      if (!(e instanceof EntraSignInError)) throw e;
      return fail(e.code, e.message);
    }
    const role = entraRole(identity, entra.roles);
    if (!role) {
      return fail('no_role', `${identity.username} has no SitePatch role. An administrator assigns one in Entra ID under Enterprise applications → the SitePatch app → Users and groups (roles SitePatch.Admin, SitePatch.Operator or SitePatch.Analyst).`, identity.username);
    }
    let signedIn;
    try {
      signedIn = await accounts.loginEntra(identity, role, entraScope(identity, entra.roles), { address: request.ip, userAgent: request.headers['user-agent'] });
    } catch (e) {
      if (!(e instanceof AccountError)) throw e;
      return fail(e.code, e.message, identity.username);
    }
    await audit.record(actorOf(request, signedIn.principal.actor), 'user.login', 'user', signedIn.principal.username, { via: 'entra', role, objectId: identity.objectId });
    await startSession(reply, signedIn);
    return reply.redirect('/');
  });
}
