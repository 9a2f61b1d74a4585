// The hosts a connection's Defender access token may be sent to: the documented API host names of
// its cloud (shared/reference/defender-api.md §2), or for Cloud = Custom exactly its API URL's host
// and port. Next links that point anywhere else are not followed.

import { CLOUD_PRESETS, type Cloud } from '../entra/clouds.js';

type Preset = Exclude<Cloud, 'custom'>;

const GOV_HOSTS = /^api-gov\.(?:securitycenter|security)\.microsoft\.us$/;

/** Host names of each cloud's Defender for Endpoint API; `[a-z]{2,3}` is a region (us, eu, uk, au, swa, …). */
const PRESET_HOSTS: Record<Preset, RegExp> = {
  commercial: /^(?:(?:[a-z]{2,3}\.)?api\.security\.microsoft\.com|api(?:-[a-z]{2,3})?\.securitycenter\.(?:microsoft|windows)\.com)$/,
  gcc: /^api-gcc\.(?:securitycenter|security)\.microsoft\.us$/,
  'gcc-high': GOV_HOSTS,
  dod: GOV_HOSTS,
};

export interface ApiHosts {
  /** Whether the access token may be sent to `url`. */
  includes(url: string): boolean;
  /** The hosts in an admin's words, for diagnoses. */
  description: string;
}

function parsed(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * The API hosts of the connection whose Defender API base URL is `apiUrl`. A cloud preset's base
 * (CLOUD_PRESETS) stands for that cloud's documented hosts; any other base, a custom cloud's, for
 * exactly its own host and port.
 */
export function apiHostsOf(apiUrl: string): ApiHosts {
  const { host } = new URL(apiUrl);
  const preset = (Object.keys(CLOUD_PRESETS) as Preset[]).find((cloud) => new URL(CLOUD_PRESETS[cloud].apiUrl).host === host);
  const allowed = preset
    ? (u: URL) => u.port === '' && PRESET_HOSTS[preset].test(u.hostname)
    : (u: URL) => u.host === host;
  return {
    description: preset ? `${host} or another documented Defender API host of its cloud` : host,
    includes: (url) => {
      const u = parsed(url);
      return u?.protocol === 'https:' && allowed(u);
    },
  };
}
