// /api/v1/sla: the SLA figures per connection and RBAC group, their totals, the mean time to
// remediate and the daily trend, over the connections the principal may see.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { visibleTenants } from '../../exposure/scope.js';
import type { SlaQueries } from '../../remediation/sla.js';
import type { Database } from '../../store/schema.js';
import { visibleConnections } from '../auth.js';
import { array, connectionId, integer, knownParameters, nullableString, object, string } from './exposure-routes.js';

const nullableInteger = { type: ['integer', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const countsProperties = {
  counted: { ...integer, description: 'Open findings counted (those an active exception covers are left out).' },
  within: integer,
  approaching: { ...integer, description: 'At least 80% of the window has passed.' },
  overdue: { ...integer, description: 'Past the due date: first seen plus the window, or CISA\'s KEV due date when sooner.' },
  excepted: { ...integer, description: 'Open findings an active exception covers: not counted.' },
  compliance: { ...nullableNumber, description: 'Percent of counted open findings not overdue (one decimal); null with none counted.' },
};
const counts = object(countsProperties);
const figuresProperties = { ...countsProperties, bySeverity: object({ critical: counts, high: counts, medium: counts, low: counts }) };
const meanTime = object({ fixed: integer, days: { ...nullableNumber, description: 'Mean days from first seen (opened at when unknown) to the fix.' } });

export function registerSlaRoutes(app: FastifyInstance, { db, sla }: { db: Kysely<Database>; sla: SlaQueries }): void {
  const scopeOf = (request: FastifyRequest, id?: string) => visibleTenants(db, visibleConnections(request), id);

  app.get<{ Querystring: { connectionId?: string; days: number } }>('/api/v1/sla', {
    config: { access: 'analyst' },
    preValidation: knownParameters,
    schema: {
      tags: ['remediation'],
      summary: 'SLA compliance per connection and RBAC group, by severity: open findings within, approaching and past their due date, excepted ones left out; the mean time to remediate and the daily trend',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { connectionId, days: { type: 'integer', minimum: 1, maximum: 365, default: 30, description: 'Days of trend (and of the mean time to remediate), ending today.' } },
      },
      response: {
        200: object({
          asOf: { ...string, description: 'The day (UTC) the states are computed for.' },
          windows: object({ critical: integer, high: integer, medium: integer, low: integer }, 'Days from first seen to the due date, per severity (findings of no severity use Low\'s).'),
          totals: object(figuresProperties),
          connections: array(object({
            connectionId: string, name: string, ...figuresProperties,
            rbacGroups: array(object({ rbacGroupId: nullableInteger, name: nullableString, ...figuresProperties })),
          })),
          meanTimeToRemediate: object({ all: meanTime, critical: meanTime, high: meanTime, medium: meanTime, low: meanTime }),
          trend: array(object({
            day: string, openFindings: integer, approaching: integer, overdue: integer, compliance: nullableNumber, fixed: integer,
            meanDaysToRemediate: nullableNumber,
          }, 'The figures after the day\'s last sync (carried over days without one; exceptions not left out), and the findings fixed that day.')),
        }),
      },
    },
  }, async (request) => sla.summary(await scopeOf(request, request.query.connectionId), request.query.days));
}
