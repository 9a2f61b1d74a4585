// Password hashing with scrypt (N=2^15, r=8, p=1), stored as `scrypt$N$r$p$salt$hash` (base64).

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';

const PARAMS = { N: 1 << 15, r: 8, p: 1 };
const KEY_LENGTH = 64;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 128 * options.N! * options.r! * 2 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), { N: Number(N), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const PASSWORD_RULE = 'at least 12 characters; common and breached passwords are refused';
const MIN_LENGTH = 12;
const MAX_LENGTH = 1024;

// zxcvbn's dictionaries ship with the package (passwords seen in breaches, common words and
// names), so the check needs no network. A score below 3 means "guessable in under 10^8 tries".
const strength = new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });
const WEAK_REASONS: Record<string, string> = {
  topTen: 'it is one of the most used passwords', topHundred: 'it is one of the most used passwords',
  common: 'it is a commonly used password', similarToCommon: 'it is very close to a commonly used password',
  simpleRepeat: 'it repeats characters', extendedRepeat: 'it repeats a pattern', sequences: 'it is a sequence such as abc or 123',
  straightRow: 'it is a row of keys', keyPattern: 'it is a keyboard pattern', recentYears: 'it is built around a year', dates: 'it is built around a date',
  userInputs: 'it contains the username',
};

/** NIST 800-63B style: length and a check against known passwords, no composition rules. */
export function passwordProblem(password: string, username = ''): string | undefined {
  const length = [...password].length;
  if (length < MIN_LENGTH) return `The password must have ${PASSWORD_RULE}.`;
  if (length > MAX_LENGTH) return `The password can have at most ${MAX_LENGTH} characters.`;
  if (/[\u0000-\u001f\u007f]/.test(password)) return 'The password contains control characters (such as NUL or a line break): type it again.';
  const result = strength.check(password, username ? [username] : []);
  if (result.score >= 3) return undefined;
  const why = WEAK_REASONS[result.feedback.warning ?? ''] ?? 'it follows a pattern that is quickly guessed';
  return `This password is too easy to guess: ${why}. Choose a longer passphrase of unrelated words.`;
}
