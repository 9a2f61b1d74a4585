// Outbound HTTPS for Entra and Defender: keep-alive connections, an optional extra CA (corporate
// TLS inspection, or the emulator's own CA) and an optional HTTPS proxy.

import { existsSync, readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export interface NetworkSettings {
  /** PEM of an extra certificate authority to trust besides the system ones. */
  extraCaPem?: string;
  /** e.g. http://proxy.corp:3128 (from HTTPS_PROXY). */
  proxyUrl?: string;
}

export function createDispatcher(settings: NetworkSettings = {}): Dispatcher {
  // One TLS context for every connection: built from a CA list, each new connection would parse
  // all the root certificates again (tens of milliseconds).
  const tls = settings.extraCaPem ? { secureContext: createSecureContext({ ca: [...rootCertificates, settings.extraCaPem] }) } : undefined;
  if (settings.proxyUrl) return new ProxyAgent({ uri: settings.proxyUrl, requestTls: tls, proxyTls: tls });
  return new Agent({ connect: tls, keepAliveTimeout: 30_000 });
}

/**
 * One dispatcher per network setup in this thread (for parser threads, which get the setup with
 * each job): building the TLS context parses every root certificate, and kept connections are reused.
 */
const shared = new Map<string, Dispatcher>();
export function sharedDispatcher(settings: NetworkSettings): Dispatcher {
  const key = JSON.stringify([settings.extraCaPem, settings.proxyUrl]);
  let dispatcher = shared.get(key);
  if (!dispatcher) shared.set(key, dispatcher = createDispatcher(settings));
  return dispatcher;
}

/**
 * The extra CAs to trust: SITEPATCH_EXTRA_CA_FILE (must exist), Node's NODE_EXTRA_CA_CERTS (when
 * present: an explicit CA list replaces Node's defaults), and any given PEMs.
 */
export function extraCaPem(files: { extraCaFile?: string; nodeExtraCaCerts?: string }, pems: string[] = []): string | undefined {
  if (files.extraCaFile && !existsSync(files.extraCaFile)) {
    throw new Error(`The extra CA file ${files.extraCaFile} (SITEPATCH_EXTRA_CA_FILE / --extra-ca-file) does not exist.`);
  }
  const fromFiles = [files.nodeExtraCaCerts, files.extraCaFile].filter((f): f is string => Boolean(f) && existsSync(f!)).map((f) => readFileSync(f, 'utf8'));
  const all = [...fromFiles, ...pems].join('\n');
  return all || undefined;
}
