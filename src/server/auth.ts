// Who is calling: a session cookie (browser; state changes need the CSRF header) or an API token
// (automation, `Authorization: Bearer sp_…`). Every /api route is closed unless marked public.

import type {} from '@fastify/cookie';
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts, Principal } from '../users/accounts.js';

export const SESSION_COOKIE = 'sitepatch_session';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in. */
    public?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Thrown by route handlers for an unknown id; answered 404. */
export class NotFoundError extends Error {}

export function apiError(reply: FastifyReply, status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return reply.code(status).send({ error: { code, message, ...extra } });
}

export function registerAuth(app: FastifyInstance, accounts: Accounts): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.url.startsWith('/api/')) return;
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const sessionId = request.cookies[SESSION_COOKIE];
    if (bearer) request.principal = await accounts.fromToken(bearer);
    else if (sessionId) request.principal = await accounts.fromSession(sessionId);

    if (request.routeOptions.config?.public) return;
    if (!request.principal) {
      return apiError(reply, 401, 'unauthenticated', bearer ? 'The API token is not valid.' : 'Sign in first, or send an API token in the Authorization header.');
    }
    if (request.principal.via === 'session' && !SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== request.principal.csrfToken) {
      return apiError(reply, 403, 'csrf_failed', `The ${CSRF_HEADER} header is missing or does not match this session. Reload the page and try again.`);
    }
  });
}
