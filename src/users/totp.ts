// Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 s), as authenticator apps expect
// them, through the otpauth library. A matched code's time step is returned so it works only once.

import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

const ISSUER = 'SitePatch';

function totp(secret: string, label = ''): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
}

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI and its QR code (an SVG document) for an authenticator app. */
export async function totpEnrolment(secret: string, username: string): Promise<{ uri: string; qrSvg: string }> {
  const uri = totp(secret, username).toString();
  return { uri, qrSvg: await QRCode.toString(uri, { type: 'svg', margin: 1 }) };
}

/** The time step of `code` when it is valid now (one step of clock drift either way), else undefined. */
export function totpStep(secret: string, code: string, now = Date.now()): number | undefined {
  const token = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = totp(secret).validate({ token, timestamp: now, window: 1 });
  return delta === null ? undefined : Math.floor(now / 30_000) + delta;
}
