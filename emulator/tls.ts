// The emulator's own certificate authority. MSAL refuses http:// authorities, so the emulator
// serves TLS; clients trust it through a CA file (NODE_EXTRA_CA_CERTS or a `ca` option), the same
// way corporate admins trust a TLS-inspecting proxy.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caPem: string;
  caFile: string;
  certPem: string;
  keyPem: string;
}

function rsaKeyPair(): forge.pki.rsa.KeyPair {
  // Node's native key generation is far faster than forge's pure-JS one.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function newCertificate(publicKey: forge.pki.PublicKey, years: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive serial: the leading byte is kept below 0x80.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 24 * 3600_000);
  return cert;
}

function createAuthority(): { certPem: string; keyPem: string } {
  const keys = rsaKeyPair();
  const cert = newCertificate(keys.publicKey, 10);
  const subject = [{ name: 'commonName', value: 'SitePatch Emulator Local CA' }, { name: 'organizationName', value: 'SitePatch' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/**
 * Loads the CA from `dir` (or creates it there), then issues a server certificate for the
 * loopback names. Reusing a directory keeps the CA stable, so clients trust it once.
 */
export function prepareTls(dir: string): TlsMaterial {
  const caFile = path.join(dir, 'ca.pem');
  const caKeyFile = path.join(dir, 'ca-key.pem');
  if (!existsSync(caFile) || !existsSync(caKeyFile)) {
    const ca = createAuthority();
    writeFileSync(caKeyFile, ca.keyPem, { mode: 0o600 });
    writeFileSync(caFile, ca.certPem);
  }
  const caPem = readFileSync(caFile, 'utf8');
  const caCert = forge.pki.certificateFromPem(caPem);
  const caKey = forge.pki.privateKeyFromPem(readFileSync(caKeyFile, 'utf8'));

  const keys = rsaKeyPair();
  const cert = newCertificate(keys.publicKey, 1);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { caPem, caFile, certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}
