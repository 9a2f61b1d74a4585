// Sign-in, first-run setup, session and sign-out.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccountError, type Accounts } from '../../users/accounts.js';
import type { AuditLog } from '../../users/audit.js';
import { apiError, SESSION_COOKIE } from '../auth.js';

const credentialsSchema = {
  type: 'object',
  required: ['username', 'password'],
  properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 } },
  additionalProperties: false,
} as const;

const sessionSchema = {
  type: 'object',
  properties: {
    user: { type: 'object', properties: { username: { type: 'string' } } },
    csrfToken: { type: 'string' },
  },
} as const;

interface Credentials {
  username: string;
  password: string;
}

export function registerAuthRoutes(app: FastifyInstance, deps: { accounts: Accounts; audit: AuditLog; secureCookies: boolean }): void {
  const { accounts, audit } = deps;

  async function signIn(request: FastifyRequest<{ Body: Credentials }>, reply: FastifyReply) {
    const { sessionId, csrfToken, principal } = await accounts.login(request.body.username, request.body.password, request.ip);
    reply.setCookie(SESSION_COOKIE, sessionId, { path: '/', httpOnly: true, sameSite: 'strict', secure: deps.secureCookies, maxAge: 12 * 3600 });
    return { user: { username: principal.username }, csrfToken };
  }

  app.post<{ Body: Credentials }>('/api/v1/auth/login', {
    config: { public: true },
    schema: { tags: ['auth'], summary: 'Sign in; sets the session cookie', body: credentialsSchema, response: { 200: sessionSchema } },
  }, async (request, reply) => {
    try {
      const result = await signIn(request, reply);
      await audit.record(result.user.username, 'user.login', 'user', result.user.username);
      return result;
    } catch (e) {
      if (e instanceof AccountError && e.code === 'throttled') {
        reply.header('retry-after', String(e.retryAfterSeconds ?? 60));
        return apiError(reply, 429, 'throttled', e.message);
      }
      if (e instanceof AccountError) return apiError(reply, 401, 'invalid_credentials', e.message);
      throw e;
    }
  });

  // Closed like every route, but its 401 also tells the sign-in page whether to offer first-run setup.
  app.get('/api/v1/auth/session', {
    config: { public: true },
    schema: { tags: ['auth'], summary: 'The signed-in user and the CSRF token; 401 (with setupRequired) when signed out', response: { 200: sessionSchema } },
  }, async (request, reply) => {
    if (!request.principal) {
      return apiError(reply, 401, 'unauthenticated', 'Not signed in.', { setupRequired: (await accounts.count()) === 0 });
    }
    return { user: { username: request.principal.username }, csrfToken: request.principal.csrfToken ?? '' };
  });

  // Open only until the first account exists; after that it is closed like any other route.
  app.post<{ Body: Credentials }>('/api/v1/auth/setup', {
    config: { public: true },
    schema: { tags: ['auth'], summary: 'First run: create the administrator and sign in', body: credentialsSchema, response: { 200: sessionSchema } },
    onRequest: async (_request, reply) => {
      if ((await accounts.count()) > 0) return apiError(reply, 401, 'unauthenticated', 'The administrator already exists: sign in instead.');
    },
  }, async (request, reply) => {
    try {
      await accounts.createUser(request.body.username, request.body.password);
    } catch (e) {
      if (e instanceof AccountError) return apiError(reply, 422, 'invalid_input', e.message);
      throw e;
    }
    await audit.record(request.body.username, 'user.create', 'user', request.body.username, { via: 'first-run setup' });
    return signIn(request, reply);
  });

  app.post('/api/v1/auth/logout', { schema: { tags: ['auth'], summary: 'Sign out' } }, async (request, reply) => {
    const sessionId = request.cookies[SESSION_COOKIE];
    if (sessionId) await accounts.logout(sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { signedOut: true };
  });
}
