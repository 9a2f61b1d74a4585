// Outbound HTTPS for Entra and Defender: keep-alive connections, an optional extra CA (corporate
// TLS inspection, or the emulator's own CA) and an optional HTTPS proxy.

import { rootCertificates } from 'node:tls';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export interface NetworkSettings {
  /** PEM of an extra certificate authority to trust besides the system ones. */
  extraCaPem?: string;
  /** e.g. http://proxy.corp:3128 (from HTTPS_PROXY). */
  proxyUrl?: string;
}

export function createDispatcher(settings: NetworkSettings = {}): Dispatcher {
  const tls = settings.extraCaPem ? { ca: [...rootCertificates, settings.extraCaPem] } : undefined;
  if (settings.proxyUrl) return new ProxyAgent({ uri: settings.proxyUrl, requestTls: tls, proxyTls: tls });
  return new Agent({ connect: tls, keepAliveTimeout: 30_000 });
}
