// Client secrets at rest: AES-256-GCM under the master key, bound to their connection id (AAD),
// so a ciphertext copied onto another row does not decrypt.

import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VERSION = 1;

export interface SecretBox {
  /** Encrypts `plaintext` bound to `context` (a connection id, or another row's name). */
  seal(plaintext: string, context: string): Buffer;
  open(sealed: Buffer, context: string): string;
  /** An HMAC-SHA256 tag of `text` under a key derived from the master key (for signed cookies). */
  sign(text: string): string;
}

function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error(`The master key from ${source} must be 32 bytes, as 64 hex characters or base64.`);
  return key;
}

export interface MasterKeySource {
  /** The key itself (SITEPATCH_MASTER_KEY). */
  key?: string;
  /** A file that holds it, e.g. a mounted secret (SITEPATCH_MASTER_KEY_FILE). */
  file?: string;
}

/** Where the key comes from: the setting, the key file, or master.key in the data directory (created on first use). */
export function masterKeyLocation(dataDir: string, source: MasterKeySource): { kind: 'setting' } | { kind: 'file'; file: string; besideData: boolean } {
  if (source.key) return { kind: 'setting' };
  if (source.file) {
    const file = path.resolve(source.file);
    return { kind: 'file', file, besideData: !path.relative(path.resolve(dataDir), file).startsWith('..') };
  }
  return { kind: 'file', file: path.join(dataDir, 'master.key'), besideData: true };
}

export function loadMasterKey(dataDir: string, source: MasterKeySource = {}): Buffer {
  if (source.key) return parseKey(source.key, 'SITEPATCH_MASTER_KEY');
  if (source.file) {
    if (!existsSync(source.file)) throw new Error(`The master key file ${source.file} (SITEPATCH_MASTER_KEY_FILE) does not exist.`);
    return parseKey(readFileSync(source.file, 'utf8'), source.file);
  }
  const file = path.join(dataDir, 'master.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return parseKey(readFileSync(file, 'utf8'), file);
}

/**
 * The master key of a PostgreSQL install: the one its processes share, given by setting, never a
 * key file made on this machine (it would open none of the secrets the other processes sealed).
 */
export function sharedMasterKey(source: MasterKeySource): Buffer {
  if (!source.key && !source.file) {
    throw new Error('The processes of a PostgreSQL install open the connections\' secrets with one master key: set SITEPATCH_MASTER_KEY or SITEPATCH_MASTER_KEY_FILE to the key the other SitePatch processes use.');
  }
  return loadMasterKey('', source);
}

export function createSecretBox(key: Buffer): SecretBox {
  const signingKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'sitepatch cookie signing', 32));
  return {
    sign: (text) => createHmac('sha256', signingKey).update(text).digest('base64url'),
    seal(plaintext, connectionId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(connectionId));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
    },
    open(sealed, connectionId) {
      if (sealed[0] !== VERSION) throw new Error('Unknown secret format.');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
      decipher.setAAD(Buffer.from(connectionId));
      decipher.setAuthTag(sealed.subarray(13, 29));
      try {
        return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('The stored client secret cannot be decrypted: the master key has changed. Restore the original key, or enter the secret again.');
      }
    },
  };
}
