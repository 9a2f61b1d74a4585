// HTTP hardening: security headers (@fastify/helmet), the host names the console answers to (a
// DNS-rebinding page on another name cannot reach a console on 127.0.0.1), and no caching of
// anything but the console's own files.

import { networkInterfaces, hostname } from 'node:os';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { apiError } from './auth.js';

/** Requests a minute per address to each route that checks a password, a code or a sign-in. */
export const SIGN_IN_RATE = { rateLimit: { max: 100, timeWindow: '1 minute' } } as const;

const ALL_INTERFACES = new Set(['0.0.0.0', '::', '']);

/** The host names a console listening on `listenHost` answers to. */
export function allowedHostNames(listenHost: string, extra: { publicUrl?: string; allowedHosts: string[] }): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '::1', ...extra.allowedHosts]);
  if (extra.publicUrl) names.add(new URL(extra.publicUrl).hostname);
  if (ALL_INTERFACES.has(listenHost)) {
    names.add(hostname());
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(a.address);
  } else {
    names.add(listenHost);
  }
  return new Set([...names].map((n) => n.toLowerCase().replace(/^\[|\]$/g, '')));
}

/** The host name of a Host header, without port or IPv6 brackets. */
function hostOf(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return bracketed[1].toLowerCase();
  return header.replace(/:\d+$/, '').toLowerCase().replace(/\.$/, '');
}

export async function registerHardening(app: FastifyInstance, options: { allowedHosts: Set<string>; https: boolean }): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (!host || !options.allowedHosts.has(hostOf(host))) {
      return apiError(reply, 421, 'host_not_allowed', 'This console is not served under that host name. If it is yours, add it to allowedHosts (SITEPATCH_ALLOWED_HOSTS) or set publicUrl.');
    }
  });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"],
        // Fluent UI (Griffel) inserts its styles at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'], fontSrc: ["'self'", 'data:'], connectSrc: ["'self'"],
        objectSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"],
        ...(options.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    // Only over TLS: on plain http a browser ignores it, and localhost must stay reachable.
    strictTransportSecurity: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
  // Routes that check credentials take at most SIGN_IN_RATE requests a minute per address (their
  // `config.rateLimit`): a flood guard in front of the login throttle. Counts live in a bounded LRU.
  await app.register(fastifyRateLimit, {
    global: false, cache: 10_000,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429, code: 'rate_limited', message: `Too many requests from this address: wait ${Math.ceil(context.ttl / 1000)} seconds.`,
    }),
  });
  // PostgreSQL's text holds no NUL character: a parameter or body string with one is refused on
  // either store (nothing SitePatch keeps has one), rather than failing in the database. Passwords
  // are only hashed or compared, and their own rules refuse control characters (422).
  app.addHook('preValidation', async (request, reply) => {
    const field = nulField(request.query, 'query') ?? nulField(request.params, 'path') ?? nulField(request.body, 'body');
    if (field) return apiError(reply, 400, 'invalid_parameter', `${field} holds a NUL character, which SitePatch does not accept.`, { fix: 'Remove the NUL (%00) character.', field });
  });
  app.addHook('onSend', async (request, reply) => {
    if (!request.routeOptions.config?.staticAsset) reply.header('cache-control', 'no-store');
  });
}

/** The first field of a parsed request part (query, path, JSON body) whose text holds a NUL character. */
function nulField(value: unknown, at: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? at : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (/password$/i.test(key)) continue;
    const found = (key.includes('\0') ? at : undefined) ?? nulField(inner, `${at}.${key}`);
    if (found) return found;
  }
  return undefined;
}
