// Entra ID sign-ins under way: what the callback needs (the nonce and the PKCE verifier) is kept
// here by the state value, which the browser carries in a cookie. Each can be taken once, within
// 10 minutes.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

const LIFETIME_MS = 10 * 60_000;

export function createSignInRequests(db: Kysely<Database>) {
  return {
    /** Keeps a sign-in just started; forgets those that never came back. */
    async save(state: string, nonce: string, codeVerifier: string): Promise<void> {
      const now = Date.now();
      await db.deleteFrom('oidc_request').where('created_at', '<', now - LIFETIME_MS).execute();
      await db.insertInto('oidc_request').values({ state, nonce, code_verifier: codeVerifier, created_at: now }).execute();
    },

    /** Takes (once) the sign-in started with `state`, if it is recent enough. */
    async take(state: string): Promise<{ nonce: string; codeVerifier: string } | undefined> {
      const row = await db.deleteFrom('oidc_request').where('state', '=', state).returningAll().executeTakeFirst();
      if (!row || row.created_at < Date.now() - LIFETIME_MS) return undefined;
      return { nonce: row.nonce, codeVerifier: row.code_verifier };
    },
  };
}

export type SignInRequests = ReturnType<typeof createSignInRequests>;
