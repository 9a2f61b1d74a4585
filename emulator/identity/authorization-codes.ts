// Authorization codes: issued by the sign-in page, redeemed once at the token endpoint, with the
// checks Entra makes on redemption (tenant, client, reuse, age, redirect URI, PKCE).

import { createHash, randomBytes } from 'node:crypto';
import { AadstsError, missingParameter } from './aadsts.js';

export interface AuthorizationGrant {
  tenantId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod: 'S256' | 'plain';
  userObjectId: string;
  /** The browser session the sign-in belongs to (the ID token's `sid`). */
  sessionId: string;
}

interface IssuedCode {
  grant: AuthorizationGrant;
  issuedAt: number;
  redeemed: boolean;
}

export interface Redemption {
  tenantId: string;
  clientId: string;
  redirectUri: string | null;
  codeVerifier: string | null;
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function invalidGrant(code: number, message: string): AadstsError {
  return new AadstsError(400, 'invalid_grant', code, message);
}

export class AuthorizationCodes {
  private readonly codes = new Map<string, IssuedCode>();

  /** `lifetimeMs`: Entra's codes live 10 minutes. */
  constructor(private readonly lifetimeMs: number, private readonly now: () => number) {}

  issue(grant: AuthorizationGrant): string {
    const now = this.now();
    // Keep spent and expired codes a while, so reusing one gets its own error rather than "unknown".
    for (const [code, issued] of this.codes) if (issued.issuedAt < now - this.lifetimeMs - 3600_000) this.codes.delete(code);
    const code = `1.A${randomBytes(96).toString('base64url')}`;
    this.codes.set(code, { grant, issuedAt: now, redeemed: false });
    return code;
  }

  /** The grant behind a code presented at the token endpoint, or the AADSTS error Entra answers. */
  redeem(code: string, presented: Redemption): AuthorizationGrant {
    const issued = this.codes.get(code);
    if (!issued) throw invalidGrant(9002313, 'Invalid request. Request is malformed or invalid.');
    const { grant } = issued;
    if (grant.tenantId !== presented.tenantId) {
      throw invalidGrant(700005, 'Provided Authorization Code is intended to use against other tenant, thus rejected.');
    }
    if (grant.clientId !== presented.clientId) throw invalidGrant(70000, 'Provided grant is invalid or malformed.');
    if (issued.redeemed) {
      throw invalidGrant(54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    }
    if (this.now() - issued.issuedAt > this.lifetimeMs) {
      throw invalidGrant(70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    }
    if (presented.redirectUri === null) throw missingParameter('redirect_uri');
    if (presented.redirectUri !== grant.redirectUri) {
      // `error` as seen in public reports of this code; the status follows the other invalid_client answers.
      throw new AadstsError(401, 'invalid_client', 500112,
        `The reply address '${presented.redirectUri}' does not match the reply address '${grant.redirectUri}' provided when requesting Authorization code.`);
    }
    const verifier = presented.codeVerifier;
    const pkceHolds = grant.codeChallenge === undefined
      ? verifier === null
      : verifier !== null && (grant.codeChallengeMethod === 'S256' ? s256(verifier) : verifier) === grant.codeChallenge;
    if (!pkceHolds) throw invalidGrant(501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    issued.redeemed = true;
    return grant;
  }
}
