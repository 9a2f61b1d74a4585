// The one place where callers are identified and their rights checked. Who: a session cookie
// (browser; state changes need the CSRF header) or an API token (`Authorization: Bearer sp_…`).
// What: each route declares the lowest role it needs in `config.access`; a route that declares
// nothing is for administrators only, and only routes marked 'public' are open. The decision is
// made on the route the router matched, never on how the URL was spelled. Which tenants: a route
// naming a connection in its path declares `connectionParam`, and any other connection a handler
// touches goes through `assertVisible`; lists filter by `visibleConnections`.

import { timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts } from '../users/accounts.js';
import type { Actor } from '../users/audit.js';
import { atLeast, inScope, type ConnectionScope, type Principal, type Role } from '../users/principal.js';

export const SESSION_COOKIE = 'sitepatch_session';
export const DEVICE_COOKIE = 'sitepatch_device';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Who may call: anyone ('public'), or the lowest role. Routes that don't say are admin-only. */
    access?: 'public' | Role;
    /** Only with a browser session, not an API token: the user's own credentials and sessions. */
    sessionOnly?: boolean;
    /** Open to a session that must still enrol two-step verification. */
    duringMfaEnrolment?: boolean;
    /** The path parameter that names a connection: one the caller may not see answers 404. */
    connectionParam?: string;
    /** The answer covers every connection together: a caller limited to some connections is refused. */
    allConnections?: boolean;
    /** A file of the web console (cacheable; everything else is no-store). */
    staticAsset?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Thrown by route handlers for an unknown (or invisible) id; answered 404. */
export class NotFoundError extends Error {}

export function apiError(reply: FastifyReply, status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return reply.code(status).send({ error: { code, message, ...extra } });
}

/** The signed-in caller of a route that is not public. */
export const principalOf = (request: FastifyRequest): Principal => request.principal!;

/** The connections the caller may see (null: all). */
export const visibleConnections = (request: FastifyRequest): ConnectionScope => principalOf(request).connectionIds;

/** Throws NotFoundError, as for a connection that does not exist, unless the caller may see it. */
export function assertVisible(request: FastifyRequest, connectionId: string): void {
  if (!inScope(visibleConnections(request), connectionId)) throw new NotFoundError(`There is no connection ${connectionId}.`);
}

/** The audit log's "who": the principal (or the name given) and the request's source address. */
export function actorOf(request: FastifyRequest, name = request.principal?.actor ?? 'anonymous'): Actor {
  return { name, address: request.ip };
}

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function registerAuth(app: FastifyInstance, accounts: Accounts): void {
  // The OpenAPI document says who may call each route.
  app.addHook('onRoute', (route) => {
    if (!route.schema) return;
    const access = route.config?.access ?? 'admin';
    const who = access === 'public' ? 'Open to anyone.' : `Needs the ${access} role${access === 'admin' ? '' : ' or higher'}${route.config?.sessionOnly ? ', signed in to the console (not an API token)' : ''}${route.config?.allConnections ? ', with access to all connections' : ''}.`;
    route.schema = { ...route.schema, description: [route.schema.description, who].filter(Boolean).join(' '), ...(access === 'public' ? { security: [] } : {}) };
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    // Unknown paths reach the not-found handler, and the console's files hold no data: neither needs a caller.
    if (request.is404 || config.staticAsset) return;
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const sessionId = request.cookies[SESSION_COOKIE];
    if (bearer) request.principal = await accounts.fromToken(bearer);
    else if (sessionId) request.principal = await accounts.fromSession(sessionId);

    const access = config.access ?? 'admin';
    if (access === 'public') return;
    const principal = request.principal;
    if (!principal) {
      return apiError(reply, 401, 'unauthenticated', bearer ? 'The API token is not valid (unknown, revoked or expired).' : 'Sign in first, or send an API token in the Authorization header.');
    }
    if (principal.via === 'session' && !SAFE_METHODS.has(request.method) && !sameText(String(request.headers[CSRF_HEADER] ?? ''), principal.csrfToken ?? '')) {
      return apiError(reply, 403, 'csrf_failed', `The ${CSRF_HEADER} header is missing or does not match this session. Reload the page and try again.`);
    }
    if (config.sessionOnly && principal.via !== 'session') {
      return apiError(reply, 403, 'session_required', 'API tokens cannot do this: sign in to the console as the user.');
    }
    if (principal.mustEnrolMfa && !config.duringMfaEnrolment) {
      return apiError(reply, 403, 'mfa_enrolment_required', 'An administrator requires two-step verification: set up your authenticator app under My account first.');
    }
    if (!atLeast(principal.role, access)) {
      return apiError(reply, 403, 'forbidden', `Your role (${principal.role}) cannot do this; it needs the ${access} role. Ask an administrator.`);
    }
    if (config.allConnections && principal.connectionIds !== null) {
      return apiError(reply, 403, 'forbidden', 'This covers every connection, and your access is limited to some of them. Ask an administrator of all connections.');
    }
    if (config.connectionParam) {
      const id = (request.params as Record<string, string>)[config.connectionParam];
      if (!inScope(principal.connectionIds, id)) return apiError(reply, 404, 'not_found', `There is no connection ${id}.`);
    }
  });
}
