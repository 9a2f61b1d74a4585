// Fault switches: each fault applies to one endpoint (or all, "*"), optionally only after the
// first `after` matching requests, and for `times` requests (unlimited when omitted).

export const ENDPOINTS = [
  'token',
  'discovery',
  'vulnerabilities',
  'vulnerability',
  'machineReferences',
  'machinesVulnerabilities',
  'machineVulnerabilities',
  'softwareVulnerabilitiesByMachine',
  'softwareVulnerabilitiesExport',
  'softwareVulnerabilityChangesByMachine',
  'exportFile',
  'msrcUpdates',
  'msrcDocument',
  'redhatChanges',
  'redhatDeletions',
  'redhatVex',
  'ubuntuModified',
  'ubuntuOsv',
  'nvdCves',
  'kev',
] as const;

/** The vendor feeds' endpoints (the rest are Entra's, Defender's and the blob host's). */
export const FEED_ENDPOINTS: readonly Endpoint[] = ['msrcUpdates', 'msrcDocument', 'redhatChanges', 'redhatDeletions', 'redhatVex', 'ubuntuModified', 'ubuntuOsv', 'nvdCves', 'kev'];

export type Endpoint = (typeof ENDPOINTS)[number];

export const FAULT_KINDS = {
  throttle: 'answer 429 TooManyRequests with Retry-After (param retryAfter, seconds; default 2)',
  serverError: 'answer 500 InternalServerError or 503 (param status)',
  forbidden: 'Defender API: answer 403 as if the permission were revoked or not yet in effect',
  resetMidBody: 'send part of the body, then reset the connection (param afterBytes; default half)',
  slowBody: 'trickle the body (param bytesPerSecond; default 2048)',
  truncatedGzip: 'export files: cut the gzip stream short',
  malformedLine: 'export files: corrupt one JSON line (param line, 1-based; default 2)',
  emptyBlob: 'export files: answer 200 with an empty body',
  expiredSas: 'export API: hand out download links whose SAS has already expired',
  shortTokens: 'token endpoint: issue tokens valid for a few seconds (param lifetimeSeconds; default 5)',
  repeatingNextLink: 'paged APIs: the next link points at the page just served',
  foreignNextLink: 'paged APIs: next links use another host name (localhost instead of 127.0.0.1)',
  bomPrefix: 'JSON responses and export files: the text starts with a UTF-8 byte-order mark',
  truncatedBody: 'JSON and CSV responses (the vendor feeds, Defender): the body stops halfway, with a Content-Length that matches',
  noExportFiles: 'export API: answer with an empty exportFiles list, as Defender sometimes does',
} as const;

export type FaultKind = keyof typeof FAULT_KINDS;

export interface FaultSpec {
  kind: FaultKind;
  endpoint?: Endpoint | '*';
  times?: number;
  after?: number;
  status?: number;
  retryAfter?: number;
  afterBytes?: number;
  bytesPerSecond?: number;
  line?: number;
  lifetimeSeconds?: number;
}

interface ActiveFault extends FaultSpec {
  id: number;
  seen: number;
  used: number;
}

export class FaultInputError extends Error {}

export class Faults {
  private active: ActiveFault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): number {
    if (!(spec.kind in FAULT_KINDS)) {
      throw new FaultInputError(`Unknown fault kind '${spec.kind}'. Known kinds: ${Object.keys(FAULT_KINDS).join(', ')}.`);
    }
    const endpoint = spec.endpoint ?? '*';
    if (endpoint !== '*' && !ENDPOINTS.includes(endpoint)) {
      throw new FaultInputError(`Unknown endpoint '${endpoint}'. Known endpoints: *, ${ENDPOINTS.join(', ')}.`);
    }
    for (const key of ['times', 'after', 'status', 'retryAfter', 'afterBytes', 'bytesPerSecond', 'line', 'lifetimeSeconds'] as const) {
      const value = spec[key];
      if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
        throw new FaultInputError(`Fault parameter '${key}' must be a non-negative number.`);
      }
    }
    const id = this.nextId++;
    this.active.push({ ...spec, endpoint, id, seen: 0, used: 0 });
    return id;
  }

  clear(): void {
    this.active = [];
  }

  list(): (FaultSpec & { id: number; used: number })[] {
    return this.active.map(({ seen: _seen, ...fault }) => fault);
  }

  /** The fault of this kind that applies to this request, if any; counts it as used. */
  take(kind: FaultKind, endpoint: Endpoint): FaultSpec | undefined {
    for (const fault of this.active) {
      if (fault.kind !== kind || (fault.endpoint !== '*' && fault.endpoint !== endpoint)) continue;
      fault.seen++;
      if (fault.seen <= (fault.after ?? 0)) continue;
      fault.used++;
      if (fault.times !== undefined && fault.used >= fault.times) this.active = this.active.filter((f) => f !== fault);
      return fault;
    }
    return undefined;
  }
}
