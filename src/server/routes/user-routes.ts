// /api/v1/users (administrators), /api/v1/tokens (one's own; administrators see all) and
// /api/v1/settings/security (administrators). Every change is audited.

import type { FastifyInstance } from 'fastify';
import type { Accounts, UserChange } from '../../users/accounts.js';
import type { AuditLog } from '../../users/audit.js';
import type { ConnectionScope, Role } from '../../users/principal.js';
import { SettingsInputError, type SecuritySettings, type SecuritySettingsStore } from '../../users/security-settings.js';
import { actorOf, apiError, principalOf } from '../auth.js';
import { accountError } from './auth-routes.js';

const role = { type: 'string', enum: ['admin', 'operator', 'analyst'] } as const;
const scope = { type: ['array', 'null'], items: { type: 'string', maxLength: 64 }, maxItems: 1000, description: 'Connection ids; null means all connections.' } as const;
const numericId = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

export function registerUserRoutes(app: FastifyInstance, deps: { accounts: Accounts; audit: AuditLog; security: SecuritySettingsStore }): void {
  const { accounts, audit, security } = deps;

  app.get('/api/v1/users', { config: { access: 'admin' }, schema: { tags: ['users'], summary: 'Console accounts' } }, () => accounts.listUsers());

  app.post<{ Body: { username: string; password: string; displayName?: string; role: Role; connectionIds?: ConnectionScope; requireMfa?: boolean } }>('/api/v1/users', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'], summary: 'Add a local account',
      body: {
        type: 'object', required: ['username', 'password', 'role'], additionalProperties: false,
        properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 4096 }, displayName: { type: 'string', maxLength: 100 }, role, connectionIds: scope, requireMfa: { type: 'boolean' } },
      },
    },
  }, async (request, reply) => {
    try {
      const user = await accounts.createUser(request.body);
      await audit.record(actorOf(request), 'user.create', 'user', user.username, { role: user.role, connectionIds: user.connectionIds, requireMfa: user.mfa.required });
      return reply.code(201).send(user);
    } catch (e) {
      return accountError(reply, e);
    }
  });

  app.patch<{ Params: { id: number }; Body: UserChange }>('/api/v1/users/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'], summary: 'Change an account: role, connections, disabled, MFA requirement; `password` resets it, `resetMfa` clears a lost authenticator (both end the account\'s sessions)',
      params: numericId,
      body: {
        type: 'object', additionalProperties: false,
        properties: { role, connectionIds: scope, disabled: { type: 'boolean' }, requireMfa: { type: 'boolean' }, displayName: { type: ['string', 'null'], maxLength: 100 }, password: { type: 'string', maxLength: 4096 }, resetMfa: { type: 'boolean' } },
      },
    },
  }, async (request, reply) => {
    try {
      const { user, changes } = await accounts.updateUser(request.params.id, request.body);
      await audit.record(actorOf(request), 'user.update', 'user', user.username, { changes });
      return user;
    } catch (e) {
      return accountError(reply, e);
    }
  });

  app.delete<{ Params: { id: number } }>('/api/v1/users/:id', {
    config: { access: 'admin' },
    schema: { tags: ['users'], summary: 'Remove an account (its sessions and tokens end)', params: numericId },
  }, async (request, reply) => {
    try {
      const user = await accounts.removeUser(request.params.id);
      await audit.record(actorOf(request), 'user.delete', 'user', user.username, { role: user.role });
      return reply.code(204).send();
    } catch (e) {
      return accountError(reply, e);
    }
  });

  app.get('/api/v1/tokens', {
    config: { access: 'analyst' },
    schema: { tags: ['tokens'], summary: 'API tokens: one\'s own (administrators: everyone\'s)' },
  }, (request) => accounts.listTokens(principalOf(request)));

  app.post<{ Body: { name: string; expiresInDays?: number; role?: Role; connectionIds?: ConnectionScope } }>('/api/v1/tokens', {
    config: { access: 'analyst', sessionOnly: true },
    schema: {
      tags: ['tokens'], summary: 'Create an API token for oneself, with at most one\'s own role and connections; the token is shown only in this answer',
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: { name: { type: 'string', maxLength: 100 }, expiresInDays: { type: 'integer', minimum: 1, maximum: 365, default: 90 }, role, connectionIds: scope },
      },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    try {
      // The token's scope is what the session may see unless narrowed: never wider.
      const { token, view } = await accounts.createToken({ userId: principal.userId }, { ...request.body, connectionIds: request.body.connectionIds ?? principal.connectionIds });
      await audit.record(actorOf(request), 'token.create', 'token', String(view.id), { name: view.name, role: view.role, connectionIds: view.connectionIds, expiresAt: view.expiresAt });
      return reply.code(201).send({ token, ...view });
    } catch (e) {
      return accountError(reply, e);
    }
  });

  app.delete<{ Params: { id: number } }>('/api/v1/tokens/:id', {
    config: { access: 'analyst' },
    schema: { tags: ['tokens'], summary: 'Revoke a token (one\'s own; administrators: any)', params: numericId },
  }, async (request, reply) => {
    const revoked = await accounts.revokeToken(principalOf(request), request.params.id);
    if (!revoked) return apiError(reply, 404, 'not_found', `There is no token ${request.params.id}.`);
    await audit.record(actorOf(request), 'token.revoke', 'token', String(revoked.id), { name: revoked.name, owner: revoked.username });
    return reply.code(204).send();
  });

  const securitySchema = {
    type: 'object', additionalProperties: false,
    properties: { requireMfaForLocalAccounts: { type: 'boolean' }, idleTimeoutMinutes: { type: 'integer' }, absoluteTimeoutHours: { type: 'integer' } },
  } as const;

  app.get('/api/v1/settings/security', { config: { access: 'admin' }, schema: { tags: ['settings'], summary: 'Sign-in and session policy' } }, () => security.get());

  app.patch<{ Body: Partial<SecuritySettings> }>('/api/v1/settings/security', {
    config: { access: 'admin' },
    schema: { tags: ['settings'], summary: 'Change the sign-in and session policy', body: securitySchema },
  }, async (request, reply) => {
    try {
      const { settings, changes } = await security.update(request.body);
      await audit.record(actorOf(request), 'settings.update', 'settings', 'security', { changes });
      return settings;
    } catch (e) {
      if (e instanceof SettingsInputError) return apiError(reply, 422, 'invalid_input', e.message, { field: e.field });
      throw e;
    }
  });
}
