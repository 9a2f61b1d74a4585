// Console accounts, sessions (cookie) and API tokens (automation), and the throttle on failed logins.

import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';

const SESSION_HOURS = 12;
const LOCKOUT_FAILURES = 5;
const LOCKOUT_WINDOW_MS = 15 * 60_000;

export interface Principal {
  userId: number;
  username: string;
  /** "session" (cookie; needs the CSRF header to change state) or "token" (Authorization header). */
  via: 'session' | 'token';
  csrfToken?: string;
  /** Who to name in the audit log. */
  actor: string;
}

export class AccountError extends Error {
  constructor(readonly code: 'invalid_input' | 'conflict' | 'invalid_credentials' | 'throttled', message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const isoNow = () => new Date().toISOString();

export function createAccounts(db: Kysely<Database>) {
  const failures = new Map<string, number[]>();
  let dummyHash: string | undefined;

  function recentFailures(key: string): number[] {
    const now = Date.now();
    const list = (failures.get(key) ?? []).filter((t) => t > now - LOCKOUT_WINDOW_MS);
    failures.set(key, list);
    return list;
  }

  return {
    async count(): Promise<number> {
      const row = await db.selectFrom('user').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async createUser(username: string, password: string): Promise<number> {
      const name = username.trim();
      if (!/^[A-Za-z0-9._@-]{2,64}$/.test(name)) throw new AccountError('invalid_input', 'The username must be 2 to 64 letters, digits or . _ @ -.');
      const problem = passwordProblem(password);
      if (problem) throw new AccountError('invalid_input', problem);
      const existing = await db.selectFrom('user').select('id').where('username', '=', name).executeTakeFirst();
      if (existing) throw new AccountError('conflict', `The account '${name}' already exists.`);
      const { id } = await db.insertInto('user')
        .values({ username: name, password_hash: await hashPassword(password), role: 'admin', created_at: isoNow() })
        .returning('id').executeTakeFirstOrThrow();
      return id;
    },

    /** Checks the password; after five failures in 15 minutes for an account or address, waits. */
    async login(username: string, password: string, address: string): Promise<{ sessionId: string; csrfToken: string; principal: Principal }> {
      const keys = [`user:${username.toLowerCase()}`, `ip:${address}`];
      for (const key of keys) {
        const list = recentFailures(key);
        if (list.length >= LOCKOUT_FAILURES) {
          const wait = Math.ceil((list[0] + LOCKOUT_WINDOW_MS - Date.now()) / 1000);
          throw new AccountError('throttled', `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60)} minute(s).`, wait);
        }
      }
      const user = await db.selectFrom('user').selectAll().where('username', '=', username.trim()).executeTakeFirst();
      // Unknown accounts cost a hash too, so response time does not reveal which names exist.
      const valid = await verifyPassword(password, user?.password_hash ?? (dummyHash ??= await hashPassword(randomBytes(16).toString('hex'))));
      if (!user || !valid) {
        for (const key of keys) recentFailures(key).push(Date.now());
        throw new AccountError('invalid_credentials', 'The username or password is incorrect.');
      }
      for (const key of keys) failures.delete(key);
      const sessionId = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      const now = new Date();
      await db.insertInto('session').values({
        id_hash: sha256(sessionId), user_id: user.id, csrf_token: csrfToken, created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + SESSION_HOURS * 3600_000).toISOString(),
      }).execute();
      return { sessionId, csrfToken, principal: { userId: user.id, username: user.username, via: 'session', csrfToken, actor: user.username } };
    },

    async fromSession(sessionId: string): Promise<Principal | undefined> {
      const row = await db.selectFrom('session').innerJoin('user', 'user.id', 'session.user_id')
        .select(['user.id', 'user.username', 'session.csrf_token', 'session.expires_at'])
        .where('session.id_hash', '=', sha256(sessionId)).executeTakeFirst();
      if (!row || row.expires_at <= isoNow()) return undefined;
      return { userId: row.id, username: row.username, via: 'session', csrfToken: row.csrf_token, actor: row.username };
    },

    async logout(sessionId: string): Promise<void> {
      await db.deleteFrom('session').where('id_hash', '=', sha256(sessionId)).execute();
    },

    async createToken(username: string, name: string): Promise<string> {
      const user = await db.selectFrom('user').select('id').where('username', '=', username).executeTakeFirst();
      if (!user) throw new AccountError('invalid_input', `There is no account '${username}'.`);
      const token = `sp_${randomBytes(32).toString('base64url')}`;
      await db.insertInto('api_token').values({ name, token_hash: sha256(token), user_id: user.id, created_at: isoNow(), last_used_at: null }).execute();
      return token;
    },

    async fromToken(token: string): Promise<Principal | undefined> {
      const row = await db.selectFrom('api_token').innerJoin('user', 'user.id', 'api_token.user_id')
        .select(['user.id', 'user.username', 'api_token.name', 'api_token.id as tokenId'])
        .where('api_token.token_hash', '=', sha256(token)).executeTakeFirst();
      if (!row) return undefined;
      await db.updateTable('api_token').set({ last_used_at: isoNow() }).where('id', '=', row.tokenId).execute();
      return { userId: row.id, username: row.username, via: 'token', actor: `${row.username} (token ${row.name})` };
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
