// Client secrets at rest: AES-256-GCM under the master key, bound to their connection id (AAD),
// so a ciphertext copied onto another row does not decrypt.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VERSION = 1;

export interface SecretBox {
  seal(plaintext: string, connectionId: string): Buffer;
  open(sealed: Buffer, connectionId: string): string;
}

function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error(`The master key from ${source} must be 32 bytes, as 64 hex characters or base64.`);
  return key;
}

/** The key from SITEPATCH_MASTER_KEY, else from (or newly into) master.key in the data directory. */
export function loadMasterKey(dataDir: string, fromSettings?: string): Buffer {
  if (fromSettings) return parseKey(fromSettings, 'SITEPATCH_MASTER_KEY');
  const file = path.join(dataDir, 'master.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return parseKey(readFileSync(file, 'utf8'), file);
}

export function createSecretBox(key: Buffer): SecretBox {
  return {
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
