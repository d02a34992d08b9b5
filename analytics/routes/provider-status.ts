// Public live status: every endpoint's signal, status and the routing weight in force in this process.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Catalog } from '../../catalog/catalog.ts';
import type { HealthRegistry } from '../../router/health/registry.ts';
import type { SignalTable } from '../../router/health/signals.ts';
import { endpointStatuses } from '../../router/routing/status.ts';
import type { RoutingWeights } from '../../router/routing/plan.ts';
import { ENDPOINT_STATUSES, EndpointSignalSchema, SignalPointSchema } from '../../telemetry/signal.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';

const StatusName = Type.Union([...ENDPOINT_STATUSES, 'unknown' as const].map((s) => Type.Literal(s)));

const Query = Type.Object(
  {
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    status: Type.Optional(StatusName),
    /** Include the recent past of each endpoint's signal (for sparklines). */
    history: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const ProviderStatusSchema = Type.Object({
  now: Type.Integer(),
  signal_max_age_ms: Type.Integer(),
  signals_received: Type.Integer(),
  /** When this process last received signals (0: never). */
  last_signal_at: Type.Integer(),
  counts: Type.Record(Type.String(), Type.Integer()),
  endpoints: Type.Array(
    Type.Object({
      endpoint_id: Type.String(),
      provider: Type.String(),
      model: Type.String(),
      status: StatusName,
      stale: Type.Boolean(),
      breaker: Type.String(),
      base_weight: Type.Number(),
      weight: Type.Number(),
      share: Type.Number(),
      excluded: Nullable(Type.String()),
      effect: Type.String(),
      signal: Nullable(EndpointSignalSchema),
      history: Type.Optional(Type.Array(SignalPointSchema)),
    }),
  ),
});

export interface ProviderStatusDeps {
  catalog: Catalog;
  health: HealthRegistry;
  signals: SignalTable;
  weights: () => RoutingWeights;
}

export function registerProviderStatusRoute(app: FastifyInstance, deps: ProviderStatusDeps): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/v1/providers/status',
    {
      schema: {
        summary: "Live degradation signals: every endpoint's status, signal and the routing weight in force now",
        tags: ['analytics'],
        querystring: Query,
        response: { 200: ProviderStatusSchema, ...errorResponses(400) },
      },
    },
    async (request) => {
      const q = request.query;
      const now = Date.now();
      const all = endpointStatuses(deps.catalog, deps.health, deps.signals, deps.weights(), now);
      const counts: Record<string, number> = {};
      for (const r of all) counts[r.status] = (counts[r.status] ?? 0) + 1;
      const rows = all.filter(
        (r) => (q.model === undefined || r.model === q.model) && (q.provider === undefined || r.provider === q.provider) && (q.status === undefined || r.status === q.status),
      );
      return {
        now,
        signal_max_age_ms: deps.signals.policy.maxAgeMs,
        signals_received: deps.signals.received,
        last_signal_at: deps.signals.lastReceivedAt,
        counts,
        endpoints: q.history ? rows.map((r) => ({ ...r, history: [...deps.signals.history(r.endpoint_id)] })) : rows,
      };
    },
  );
}
