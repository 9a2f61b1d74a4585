// The exposure API's shapes, as the console uses them: taken from the API types generated from the
// server's OpenAPI document (web/src/api-types.ts, `npm run api-types`), the answer of each GET by
// its path, so that a change of a route's schema shows up here at compile time.

import type { paths } from '../api-types';

type JsonOf<Op> = Op extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;

/** What GET `P` answers (200, application/json). */
export type Answer<P extends keyof paths> = paths[P] extends { get: infer Op } ? JsonOf<Op> : never;

/** The query parameters GET `P` takes. */
export type QueryOf<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never;

/** The filter parameters of a list (what a page may put in the address for it). */
export type FilterOf<P extends keyof paths> = Exclude<keyof QueryOf<P>, 'sort' | 'limit' | 'cursor' | 'format'> & string;

type ItemOf<L> = L extends { items: (infer T)[] } ? T : never;

export type ExposureSummary = Answer<'/api/v1/exposure/summary'>;
export type Trend = Answer<'/api/v1/exposure/trend'>;
export type TrendPoint = Trend['points'][number];
export type Facets = Answer<'/api/v1/exposure/facets'>;
export type VulnerabilityItem = ItemOf<Answer<'/api/v1/vulnerabilities'>>;
export type VulnerabilityDetail = Answer<'/api/v1/vulnerabilities/{id}'>;
export type DeviceItem = ItemOf<Answer<'/api/v1/devices'>>;
export type DeviceDetail = Answer<'/api/v1/devices/{id}'>;
export type DeviceFinding = DeviceDetail['software'][number]['findings'][number];
export type SoftwareItem = ItemOf<Answer<'/api/v1/software'>>;
export type SoftwareDetail = Answer<'/api/v1/software/{id}'>;
export type TenantItem = ItemOf<Answer<'/api/v1/tenants'>>;
export type FindingItem = ItemOf<Answer<'/api/v1/findings'>>;
export type Freshness = ExposureSummary['connections'][number];
export type BySeverity = ExposureSummary['bySeverity'];
