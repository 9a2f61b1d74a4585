// Cloud presets: where to sign in and where the Defender API lives. The token scope is the
// WindowsDefenderATP resource in every cloud (see shared/reference/defender-api.md §1.3).

export const CLOUDS = ['commercial', 'gcc', 'gcc-high', 'dod', 'custom'] as const;
export type Cloud = (typeof CLOUDS)[number];

export interface Endpoints {
  loginUrl: string;
  apiUrl: string;
}

export const CLOUD_PRESETS: Record<Exclude<Cloud, 'custom'>, Endpoints & { label: string }> = {
  commercial: { label: 'Commercial', loginUrl: 'https://login.microsoftonline.com', apiUrl: 'https://api.securitycenter.microsoft.com' },
  gcc: { label: 'GCC', loginUrl: 'https://login.microsoftonline.com', apiUrl: 'https://api-gcc.securitycenter.microsoft.us' },
  'gcc-high': { label: 'GCC High', loginUrl: 'https://login.microsoftonline.us', apiUrl: 'https://api-gov.securitycenter.microsoft.us' },
  dod: { label: 'DoD', loginUrl: 'https://login.microsoftonline.us', apiUrl: 'https://api-gov.securitycenter.microsoft.us' },
};

export function endpointsFor(cloud: Cloud, custom: Partial<Endpoints>): Endpoints {
  if (cloud !== 'custom') return CLOUD_PRESETS[cloud];
  return { loginUrl: custom.loginUrl ?? '', apiUrl: custom.apiUrl ?? '' };
}
