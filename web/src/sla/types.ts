// The SLA API's shapes, from the generated API types.

import type { Answer } from '../shared/exposure-types';

export type SlaSummary = Answer<'/api/v1/sla'>;
export type SlaConnection = SlaSummary['connections'][number];
export type SlaGroup = SlaConnection['rbacGroups'][number];
export type SlaCounts = SlaSummary['totals']['bySeverity']['critical'];
export type SlaTrendPoint = SlaSummary['trend'][number];
