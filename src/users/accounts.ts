// Console accounts: local users (password, optional TOTP) and users who sign in with Entra ID;
// their roles and connection scopes; sign-in with the throttle; sessions (cookie) with idle and
// absolute timeouts; and API tokens (automation) with an expiry, a role and a scope.

import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { SecretBox } from '../connections/secret-box.js';
import type { Database, UserTable } from '../store/schema.js';
import { createLoginThrottle, type ThrottleKey } from './login-throttle.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { atLeast, intersectScopes, lowerRole, ROLES, type ConnectionScope, type Principal, type Role } from './principal.js';
import type { SecuritySettingsStore } from './security-settings.js';
import { newTotpSecret, totpEnrolment, totpStep } from './totp.js';

/** Sessions a user may hold at once; a new sign-in beyond this ends the least recently used. */
const MAX_SESSIONS = 10;
/** last_seen_at and last_used_at are written at most this often per session or token. */
const TOUCH_MS = 60_000;
const MAX_TOKEN_DAYS = 365;
const DAY = 86_400_000;

export type AccountErrorCode =
  | 'invalid_input' | 'conflict' | 'invalid_credentials' | 'throttled' | 'mfa_required' | 'invalid_code' | 'not_found' | 'last_admin' | 'forbidden'
  | 'mfa_required_by_policy';

export class AccountError extends Error {
  constructor(readonly code: AccountErrorCode, message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

export interface UserView {
  id: number;
  username: string;
  displayName: string | null;
  role: Role;
  source: 'local' | 'entra';
  connectionIds: ConnectionScope;
  disabled: boolean;
  mfa: { enrolled: boolean; required: boolean };
  createdAt: string;
  lastSignInAt: string | null;
}

export interface SessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  address: string | null;
  userAgent: string | null;
  current: boolean;
}

export interface TokenView {
  id: number;
  name: string;
  username: string;
  role: Role;
  connectionIds: ConnectionScope;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** Where a request comes from, for sessions and the throttle. */
export interface Origin {
  address: string;
  userAgent?: string;
  /** The device cookie a browser got at an earlier sign-in to this account. */
  deviceCookie?: string;
}

export interface SignedIn {
  sessionId: string;
  csrfToken: string;
  principal: Principal;
  /** A fresh device cookie for this account on this browser. */
  deviceCookie: string;
  /** Cookie lifetime: the absolute session timeout. */
  maxAgeSeconds: number;
}

export interface NewUser {
  username: string;
  password?: string;
  displayName?: string | null;
  role: Role;
  connectionIds?: ConnectionScope;
  requireMfa?: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const isoNow = () => new Date().toISOString();
const USERNAME = /^[A-Za-z0-9._@-]{2,64}$/;
const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

type UserRow = Selectable<UserTable>;

export interface UserChange {
  role?: Role;
  connectionIds?: ConnectionScope;
  disabled?: boolean;
  requireMfa?: boolean;
  displayName?: string | null;
  /** A new password set by an administrator (local accounts). */
  password?: string;
  /** Clears the user's authenticator app (a lost phone). */
  resetMfa?: boolean;
}

const NO_TOTP = { totp_secret: null, totp_pending: null, totp_last_step: null };

export interface AccountsDeps {
  db: Kysely<Database>;
  secrets: SecretBox;
  security: SecuritySettingsStore;
}

export function createAccounts({ db, secrets, security }: AccountsDeps) {
  const throttle = createLoginThrottle(db);
  let dummyHash: string | undefined;
  const totpContext = (userId: number) => `user:${userId}:totp`;

  async function scopeOf(table: 'user_connection' | 'token_connection', column: 'user_id' | 'token_id', id: number, all: number): Promise<ConnectionScope> {
    if (all) return null;
    const rows = await db.selectFrom(table).select('connection_id').where(column as 'user_id', '=', id).orderBy('connection_id').execute();
    return rows.map((r) => r.connection_id);
  }

  async function setScope(table: 'user_connection' | 'token_connection', column: 'user_id' | 'token_id', id: number, scope: ConnectionScope, trx: Kysely<Database> = db): Promise<void> {
    await trx.deleteFrom(table).where(column as 'user_id', '=', id).execute();
    if (scope?.length) await trx.insertInto(table).values(scope.map((connection_id) => ({ [column]: id, connection_id }) as { user_id: number; connection_id: string })).execute();
  }

  async function assertConnectionsExist(scope: ConnectionScope): Promise<ConnectionScope> {
    if (scope === null) return null;
    const unique = [...new Set(scope)];
    if (!unique.length) throw new AccountError('invalid_input', 'Choose at least one connection, or "All connections".');
    const found = await db.selectFrom('connection').select('id').where('id', 'in', unique).execute();
    const missing = unique.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) throw new AccountError('invalid_input', `There is no connection ${missing.join(', ')}.`);
    return unique.sort();
  }

  async function userRow(id: number): Promise<UserRow> {
    const row = await db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AccountError('not_found', `There is no account ${id}.`);
    return row;
  }

  async function mfaRequired(user: UserRow): Promise<boolean> {
    return user.source === 'local' && (user.require_mfa === 1 || (await security.get()).requireMfaForLocalAccounts);
  }

  async function userView(row: UserRow): Promise<UserView> {
    return {
      id: row.id, username: row.username, displayName: row.display_name, role: row.role, source: row.source,
      connectionIds: await scopeOf('user_connection', 'user_id', row.id, row.all_connections), disabled: row.disabled === 1,
      mfa: { enrolled: row.totp_secret !== null, required: await mfaRequired(row) },
      createdAt: row.created_at, lastSignInAt: row.last_sign_in_at,
    };
  }

  function validRole(role: unknown): Role {
    if (!ROLES.includes(role as Role)) throw new AccountError('invalid_input', `The role must be one of: ${ROLES.join(', ')}.`);
    return role as Role;
  }

  /** Refuses a change that would leave no enabled administrator (checked inside the change's transaction). */
  async function assertAdminRemains(trx: Kysely<Database>, exceptUserId: number): Promise<void> {
    const other = await trx.selectFrom('user').select('id').where('role', '=', 'admin').where('disabled', '=', 0).where('id', '!=', exceptUserId).executeTakeFirst();
    if (!other) throw new AccountError('last_admin', 'This is the only enabled administrator: make another account an administrator first.');
  }

  async function insertUser(user: NewUser, extra: Partial<UserRow> = {}, onlyIfNone = false): Promise<number | undefined> {
    const name = user.username.trim();
    if (!USERNAME.test(name) && extra.source !== 'entra') throw new AccountError('invalid_input', 'The username must be 2 to 64 letters, digits or . _ @ -.');
    const role = validRole(user.role);
    const password_hash = user.password !== undefined ? await newPasswordHash(user.password, name) : '';
    const scope = await assertConnectionsExist(user.connectionIds ?? null);
    return db.transaction().execute(async (trx) => {
      // First-run setup creates the administrator only while there is no account, in the same
      // transaction as the check, so parallel setups cannot each create one.
      if (onlyIfNone && (await trx.selectFrom('user').select('id').limit(1).executeTakeFirst())) return undefined;
      const existing = await trx.selectFrom('user').select('id').where('username', '=', name).executeTakeFirst();
      if (existing) throw new AccountError('conflict', `The account '${name}' already exists.`);
      const { id } = await trx.insertInto('user').values({
        username: name, password_hash, role, display_name: user.displayName ?? null, all_connections: scope === null ? 1 : 0,
        require_mfa: user.requireMfa ? 1 : 0, created_at: isoNow(), ...extra,
      }).returning('id').executeTakeFirstOrThrow();
      await setScope('user_connection', 'user_id', id, scope, trx);
      return id;
    });
  }

  async function principalFor(user: UserRow, via: Principal['via'], extra: Partial<Principal>): Promise<Principal> {
    return {
      userId: user.id, username: user.username, displayName: user.display_name, role: user.role, source: user.source,
      connectionIds: await scopeOf('user_connection', 'user_id', user.id, user.all_connections), via, mustEnrolMfa: false, actor: user.username, ...extra,
    };
  }

  /** A new session for `user`; the oldest ones beyond MAX_SESSIONS end. */
  async function openSession(user: UserRow, origin: Origin): Promise<SignedIn> {
    const { absoluteTimeoutHours } = await security.get();
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const id = randomUUID();
    const now = new Date();
    const mustEnrolMfa = user.totp_secret === null && (await mfaRequired(user));
    await db.insertInto('session').values({
      id, id_hash: sha256(sessionId), user_id: user.id, csrf_token: csrfToken, created_at: now.toISOString(), last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + absoluteTimeoutHours * 3600_000).toISOString(), address: origin.address,
      user_agent: origin.userAgent?.slice(0, 300) ?? null, must_enrol_mfa: mustEnrolMfa ? 1 : 0,
    }).execute();
    const excess = await db.selectFrom('session').select('id').where('user_id', '=', user.id).orderBy('last_seen_at', 'desc').offset(MAX_SESSIONS).limit(1000).execute();
    if (excess.length) await db.deleteFrom('session').where('id', 'in', excess.map((e) => e.id)).execute();
    await db.updateTable('user').set({ last_sign_in_at: now.toISOString() }).where('id', '=', user.id).execute();
    return {
      sessionId, csrfToken, deviceCookie: deviceCookie(user.id), maxAgeSeconds: absoluteTimeoutHours * 3600,
      principal: await principalFor(user, 'session', { sessionId: id, csrfToken, mustEnrolMfa }),
    };
  }

  /** A signed cookie naming this browser as one that signed in to the account (OWASP's device cookie). */
  function deviceCookie(userId: number): string {
    const body = `${userId}.${randomBytes(12).toString('base64url')}`;
    return `${body}.${secrets.sign(`device:${body}`)}`;
  }

  function trustedDevice(cookie: string | undefined, userId: number): string | undefined {
    const [user, nonce, tag] = (cookie ?? '').split('.');
    if (!tag || Number(user) !== userId || !sameText(tag, secrets.sign(`device:${user}.${nonce}`))) return undefined;
    return nonce;
  }

  /** Re-checks a signed-in user's password (before changing credentials), under the same throttle as sign-in. */
  async function checkPasswordOf(user: UserRow, password: string, origin: Origin): Promise<void> {
    const keys: ThrottleKey[] = [{ kind: 'address', id: origin.address }, { kind: 'account', id: String(user.id) }];
    const wait = await throttle.attempt(keys);
    if (wait) throw new AccountError('throttled', `Too many wrong passwords. Try again in ${wait.retryAfterSeconds} second(s).`, wait.retryAfterSeconds);
    if (!(await verifyPassword(password, user.password_hash))) throw new AccountError('invalid_credentials', 'The password is incorrect.');
    await throttle.succeeded(keys);
  }

  /** Checks a new password against the rules and hashes it; throws the rule it breaks. */
  async function newPasswordHash(password: string, username: string): Promise<string> {
    const problem = passwordProblem(password, username);
    if (problem) throw new AccountError('invalid_input', problem);
    return hashPassword(password);
  }

  async function findLocalUser(username: string): Promise<UserRow | undefined> {
    return db.selectFrom('user').selectAll().where('username', '=', username.trim()).where('source', '=', 'local').executeTakeFirst();
  }

  return {
    async count(): Promise<number> {
      const row = await db.selectFrom('user').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Creates a local account; throws AccountError for bad input or a taken name. */
    async createUser(user: NewUser): Promise<UserView> {
      if (user.password === undefined) throw new AccountError('invalid_input', 'A local account needs a password.');
      const id = (await insertUser(user))!;
      return userView(await userRow(id));
    },

    /** First-run setup: the administrator, only while no account exists (undefined otherwise). */
    async createFirstAdmin(username: string, password: string): Promise<UserView | undefined> {
      const id = await insertUser({ username, password, role: 'admin' }, {}, true);
      return id === undefined ? undefined : userView(await userRow(id));
    },

    async listUsers(): Promise<{ items: UserView[]; total: number; nextCursor: null }> {
      const rows = await db.selectFrom('user').selectAll().orderBy('username').execute();
      const items = await Promise.all(rows.map(userView));
      return { items, total: items.length, nextCursor: null };
    },

    async getUser(id: number): Promise<UserView> {
      return userView(await userRow(id));
    },

    /**
     * Changes an account; `password` sets a new one and `resetMfa` clears a lost authenticator (local
     * accounts). Everything is checked before anything is written, and written in one transaction.
     */
    async updateUser(id: number, change: UserChange): Promise<{ user: UserView; changes: Record<string, unknown> }> {
      const row = await userRow(id);
      const before = await userView(row);
      if (change.role !== undefined) validRole(change.role);
      if ((change.password !== undefined || change.resetMfa) && row.source !== 'local') {
        throw new AccountError('invalid_input', 'This account signs in with Microsoft Entra ID: its password and sign-in methods are managed there.');
      }
      const demotes = before.role === 'admin' && ((change.role !== undefined && change.role !== 'admin') || change.disabled === true);
      const scope = change.connectionIds !== undefined ? await assertConnectionsExist(change.connectionIds) : before.connectionIds;
      const passwordHash = change.password !== undefined ? await newPasswordHash(change.password, row.username) : undefined;
      await db.transaction().execute(async (trx) => {
        if (demotes) await assertAdminRemains(trx, id);
        await trx.updateTable('user').set({
          ...(change.role !== undefined ? { role: change.role } : {}),
          ...(change.disabled !== undefined ? { disabled: change.disabled ? 1 : 0 } : {}),
          ...(change.requireMfa !== undefined ? { require_mfa: change.requireMfa ? 1 : 0 } : {}),
          ...(change.displayName !== undefined ? { display_name: change.displayName } : {}),
          ...(passwordHash ? { password_hash: passwordHash } : {}),
          ...(change.resetMfa ? NO_TOTP : {}),
          all_connections: scope === null ? 1 : 0,
        }).where('id', '=', id).execute();
        await setScope('user_connection', 'user_id', id, scope, trx);
        // A disabled account, one whose rights shrank, or whose credentials were reset signs in again.
        if (change.disabled || change.role !== undefined || change.connectionIds !== undefined || passwordHash || change.resetMfa) {
          await trx.deleteFrom('session').where('user_id', '=', id).execute();
        }
      });
      const user = await userView(await userRow(id));
      const changes: Record<string, unknown> = {};
      for (const key of ['role', 'disabled', 'displayName'] as const) if (before[key] !== user[key]) changes[key] = { from: before[key], to: user[key] };
      if (JSON.stringify(before.connectionIds) !== JSON.stringify(user.connectionIds)) changes.connectionIds = { from: before.connectionIds, to: user.connectionIds };
      if (before.mfa.required !== user.mfa.required) changes.requireMfa = { from: before.mfa.required, to: user.mfa.required };
      if (passwordHash) changes.password = 'reset';
      if (change.resetMfa) changes.mfa = 'reset';
      return { user, changes };
    },

    async removeUser(id: number): Promise<UserView> {
      const user = await userView(await userRow(id));
      await db.transaction().execute(async (trx) => {
        if (user.role === 'admin') await assertAdminRemains(trx, id);
        await trx.deleteFrom('user').where('id', '=', id).execute();
      });
      return user;
    },

    /**
     * Checks the password (and the TOTP code when the account has one) under the throttle, then
     * opens a session. Unknown accounts cost a hash too, so timing does not reveal which exist.
     */
    async login(username: string, password: string, origin: Origin, totpCode?: string): Promise<SignedIn> {
      const user = await findLocalUser(username);
      const device = user && trustedDevice(origin.deviceCookie, user.id);
      // An unknown name is slowed down exactly like an account, so the throttle does not tell which names exist.
      const account = user ? String(user.id) : `name:${username.trim().toLowerCase()}`;
      // A browser that signed in to this account before is counted on its own: failures from
      // elsewhere, or from others behind the same address, do not slow it down.
      const keys: ThrottleKey[] = device
        ? [{ kind: 'device', id: `${account}:${device}` }]
        : [{ kind: 'address', id: origin.address }, { kind: 'account', id: account }, { kind: 'pair', id: `${account}:${origin.address}` }];
      const wait = await throttle.attempt(keys);
      if (wait) {
        const minutes = Math.ceil(wait.retryAfterSeconds / 60);
        const when = wait.retryAfterSeconds < 60 ? `${wait.retryAfterSeconds} second(s)` : `${minutes} minute(s)`;
        throw new AccountError('throttled', `Too many failed sign-ins. Try again in ${when}.`, wait.retryAfterSeconds);
      }
      const valid = await verifyPassword(password, user?.password_hash || (dummyHash ??= await hashPassword(randomBytes(16).toString('hex'))));
      if (!user || !valid || user.disabled) throw new AccountError('invalid_credentials', 'The username or password is incorrect.');
      if (user.totp_secret) {
        if (!totpCode) throw new AccountError('mfa_required', 'Enter the 6-digit code from your authenticator app.');
        const step = totpStep(secrets.open(user.totp_secret, totpContext(user.id)), totpCode);
        if (step === undefined || step <= (user.totp_last_step ?? -1)) throw new AccountError('invalid_code', 'The code is not valid (or was already used). Enter the current code from your authenticator app.');
        await db.updateTable('user').set({ totp_last_step: step }).where('id', '=', user.id).execute();
      }
      await throttle.succeeded(keys);
      return openSession(user, origin);
    },

    /**
     * Signs in an Entra ID user: their account is created on first sign-in; the role comes from
     * Entra each time, and so does the scope when their groups set one (undefined: keep it).
     */
    async loginEntra(identity: { objectId: string; username: string; displayName: string }, role: Role, scope: ConnectionScope | undefined, origin: Origin): Promise<SignedIn> {
      const known = scope === undefined || scope === null ? scope
        : (await db.selectFrom('connection').select('id').where('id', 'in', scope.length ? scope : ['']).execute()).map((c) => c.id);
      let user = await db.selectFrom('user').selectAll().where('entra_object_id', '=', identity.objectId).executeTakeFirst();
      if (!user) {
        const id = await insertUser(
          { username: identity.username, displayName: identity.displayName, role, connectionIds: known ?? null },
          { source: 'entra', entra_object_id: identity.objectId },
        );
        user = await userRow(id!);
      } else {
        if (user.disabled) throw new AccountError('forbidden', 'This account is disabled in SitePatch: ask an administrator to enable it.');
        const userId = user.id;
        await db.transaction().execute(async (trx) => {
          await trx.updateTable('user').set({ role, display_name: identity.displayName, username: identity.username, ...(known !== undefined ? { all_connections: known === null ? 1 : 0 } : {}) })
            .where('id', '=', userId).execute();
          if (known !== undefined) await setScope('user_connection', 'user_id', userId, known, trx);
        });
        user = await userRow(user.id);
      }
      return openSession(user, origin);
    },

    async fromSession(sessionId: string): Promise<Principal | undefined> {
      const row = await db.selectFrom('session').innerJoin('user', 'user.id', 'session.user_id')
        .selectAll('user').select(['session.id as session_id', 'session.csrf_token', 'session.expires_at', 'session.last_seen_at', 'session.must_enrol_mfa'])
        .where('session.id_hash', '=', sha256(sessionId)).executeTakeFirst();
      if (!row || row.disabled) return undefined;
      const now = Date.now();
      const { idleTimeoutMinutes } = await security.get();
      if (Date.parse(row.expires_at) <= now || Date.parse(row.last_seen_at) + idleTimeoutMinutes * 60_000 <= now) {
        await db.deleteFrom('session').where('id', '=', row.session_id).execute();
        return undefined;
      }
      if (now - Date.parse(row.last_seen_at) > TOUCH_MS) await db.updateTable('session').set({ last_seen_at: new Date(now).toISOString() }).where('id', '=', row.session_id).execute();
      return principalFor(row, 'session', { sessionId: row.session_id, csrfToken: row.csrf_token, mustEnrolMfa: row.must_enrol_mfa === 1 });
    },

    async logout(sessionId: string): Promise<void> {
      await db.deleteFrom('session').where('id_hash', '=', sha256(sessionId)).execute();
    },

    async listSessions(principal: Principal): Promise<{ items: SessionView[]; total: number }> {
      const rows = await db.selectFrom('session').selectAll().where('user_id', '=', principal.userId).orderBy('last_seen_at', 'desc').execute();
      const items = rows.map((r): SessionView => ({
        id: r.id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at, address: r.address, userAgent: r.user_agent, current: r.id === principal.sessionId,
      }));
      return { items, total: items.length };
    },

    /** Ends one of the principal's own sessions (false when there is none with that id). */
    async endSession(principal: Principal, id: string): Promise<boolean> {
      const result = await db.deleteFrom('session').where('user_id', '=', principal.userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Ends every session of the user, or all but `keepId`. */
    async endSessions(userId: number, keepId?: string): Promise<number> {
      let query = db.deleteFrom('session').where('user_id', '=', userId);
      if (keepId) query = query.where('id', '!=', keepId);
      return Number((await query.executeTakeFirst()).numDeletedRows);
    },

    /** Changes a local account's password after checking the current one; other sessions end. */
    async changePassword(principal: Principal, current: string, next: string, origin: Origin): Promise<void> {
      const user = await userRow(principal.userId);
      if (user.source !== 'local') throw new AccountError('invalid_input', 'This account signs in with Microsoft Entra ID: change the password there.');
      await checkPasswordOf(user, current, origin);
      const passwordHash = await newPasswordHash(next, user.username);
      if (await verifyPassword(next, user.password_hash)) throw new AccountError('invalid_input', 'The new password is the same as the current one.');
      await db.updateTable('user').set({ password_hash: passwordHash }).where('id', '=', user.id).execute();
      await this.endSessions(user.id, principal.sessionId);
    },

    /** Sets a local account's password without the current one (an administrator's reset, or the CLI); all its sessions end. */
    async resetPassword(userId: number, next: string): Promise<void> {
      await this.updateUser(userId, { password: next });
    },

    /** Starts TOTP enrolment: a new secret, kept pending until a code from it is confirmed. */
    async startTotp(principal: Principal): Promise<{ secret: string; uri: string; qrSvg: string }> {
      const user = await userRow(principal.userId);
      if (user.source !== 'local') throw new AccountError('invalid_input', 'This account signs in with Microsoft Entra ID, whose own multi-factor authentication applies.');
      const secret = newTotpSecret();
      await db.updateTable('user').set({ totp_pending: secrets.seal(secret, totpContext(user.id)) }).where('id', '=', user.id).execute();
      return { secret, ...(await totpEnrolment(secret, user.username)) };
    },

    async confirmTotp(principal: Principal, code: string): Promise<void> {
      const user = await userRow(principal.userId);
      if (!user.totp_pending) throw new AccountError('invalid_input', 'Start the enrolment first.');
      const step = totpStep(secrets.open(user.totp_pending, totpContext(user.id)), code);
      if (step === undefined) throw new AccountError('invalid_code', 'The code does not match: check the time on your phone, and enter the current 6-digit code.');
      await db.updateTable('user').set({ totp_secret: user.totp_pending, totp_pending: null, totp_last_step: step }).where('id', '=', user.id).execute();
      if (principal.sessionId) await db.updateTable('session').set({ must_enrol_mfa: 0 }).where('user_id', '=', user.id).execute();
    },

    async removeTotp(principal: Principal, password: string, origin: Origin): Promise<void> {
      const user = await userRow(principal.userId);
      if (await mfaRequired(user)) throw new AccountError('mfa_required_by_policy', 'An administrator requires two-step verification for this account.');
      await checkPasswordOf(user, password, origin);
      await db.updateTable('user').set(NO_TOTP).where('id', '=', user.id).execute();
    },

    /** Creates an API token for `owner`, with at most the owner's role and scope. Shown once. */
    async createToken(owner: { userId: number } | { username: string }, spec: { name: string; expiresInDays?: number; role?: Role; connectionIds?: ConnectionScope }): Promise<{ token: string; view: TokenView }> {
      const user = 'userId' in owner ? await userRow(owner.userId)
        : await db.selectFrom('user').selectAll().where('username', '=', owner.username).executeTakeFirst();
      if (!user) throw new AccountError('invalid_input', `There is no account '${'username' in owner ? owner.username : ''}'.`);
      const name = spec.name.trim();
      if (!name || name.length > 100) throw new AccountError('invalid_input', 'Name the token (1 to 100 characters): what it is for.');
      const days = spec.expiresInDays ?? 90;
      if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) throw new AccountError('invalid_input', `A token expires after 1 to ${MAX_TOKEN_DAYS} days.`);
      const role = spec.role === undefined ? user.role : validRole(spec.role);
      if (!atLeast(user.role, role)) throw new AccountError('invalid_input', `A token can have at most its owner's role (${user.role}).`);
      const ownerScope = await scopeOf('user_connection', 'user_id', user.id, user.all_connections);
      const scope = await assertConnectionsExist(spec.connectionIds ?? ownerScope);
      if (ownerScope !== null && (scope === null || scope.some((id) => !ownerScope.includes(id)))) {
        throw new AccountError('invalid_input', 'A token can reach only connections its owner can see.');
      }
      const token = `sp_${randomBytes(32).toString('base64url')}`;
      const now = new Date();
      const id = await db.transaction().execute(async (trx) => {
        const row = await trx.insertInto('api_token').values({
          name, token_hash: sha256(token), user_id: user.id, created_at: now.toISOString(), last_used_at: null,
          expires_at: new Date(now.getTime() + days * DAY).toISOString(), role, all_connections: scope === null ? 1 : 0,
        }).returning('id').executeTakeFirstOrThrow();
        await setScope('token_connection', 'token_id', row.id, scope, trx);
        return row.id;
      });
      return { token, view: (await this.listTokens({ userId: user.id, role: 'analyst' })).items.find((t) => t.id === id)! };
    },

    /** Administrators see every token; others their own. */
    async listTokens(principal: Pick<Principal, 'userId' | 'role'>): Promise<{ items: TokenView[]; total: number }> {
      let query = db.selectFrom('api_token').innerJoin('user', 'user.id', 'api_token.user_id')
        .select(['api_token.id', 'api_token.name', 'api_token.role', 'api_token.all_connections', 'api_token.created_at', 'api_token.expires_at', 'api_token.last_used_at', 'user.username', 'user.role as user_role'])
        .orderBy('api_token.id');
      if (principal.role !== 'admin') query = query.where('api_token.user_id', '=', principal.userId);
      const rows = await query.execute();
      const items = await Promise.all(rows.map(async (r): Promise<TokenView> => ({
        id: r.id, name: r.name, username: r.username, role: lowerRole(r.role ?? r.user_role, r.user_role),
        connectionIds: await scopeOf('token_connection', 'token_id', r.id, r.all_connections), createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at,
      })));
      return { items, total: items.length };
    },

    /** Revokes a token the principal may see; false when there is none. */
    async revokeToken(principal: Pick<Principal, 'userId' | 'role'>, id: number): Promise<TokenView | undefined> {
      const token = (await this.listTokens(principal)).items.find((t) => t.id === id);
      if (token) await db.deleteFrom('api_token').where('id', '=', id).execute();
      return token;
    },

    async fromToken(token: string): Promise<Principal | undefined> {
      const row = await db.selectFrom('api_token').innerJoin('user', 'user.id', 'api_token.user_id')
        .selectAll('user').select(['api_token.id as token_id', 'api_token.name as token_name', 'api_token.role as token_role', 'api_token.all_connections as token_all',
          'api_token.expires_at', 'api_token.last_used_at'])
        .where('api_token.token_hash', '=', sha256(token)).executeTakeFirst();
      if (!row || row.disabled || (row.expires_at && Date.parse(row.expires_at) <= Date.now())) return undefined;
      if (!row.last_used_at || Date.now() - Date.parse(row.last_used_at) > TOUCH_MS) {
        await db.updateTable('api_token').set({ last_used_at: isoNow() }).where('id', '=', row.token_id).execute();
      }
      const base = await principalFor(row, 'token', { tokenId: row.token_id, actor: `${row.username} (token ${row.token_name})` });
      return {
        ...base,
        role: lowerRole(row.token_role ?? row.role, row.role),
        connectionIds: intersectScopes(base.connectionIds, await scopeOf('token_connection', 'token_id', row.token_id, row.token_all)),
      };
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
