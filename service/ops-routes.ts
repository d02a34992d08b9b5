import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Metrics } from '../core/metrics.ts';
import type { HealthRegistry } from '../router/health/registry.ts';
import { errorResponses } from '../http/schemas.ts';
import { ApiError } from '../core/errors.ts';

const STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export interface OpsDeps {
  metrics: Metrics;
  health: HealthRegistry | undefined;
  /** Ready: dependencies up (ClickHouse migrated, bus open) and not shutting down. */
  ready: () => { ready: boolean; reason?: string };
  telemetry?: () => { depth: number; dropped: number };
  /** Sets gauges that are cheaper to compute at scrape time than to keep current. */
  collect?: () => void;
  /** Guards /metrics when an operator token is configured. */
  guard?: onRequestHookHandler;
}

export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: dependencies are up and the service is not draining',
        tags: ['ops'],
        response: { 200: Type.Object({ status: Type.Literal('ready') }), ...errorResponses(503) },
      },
    },
    async () => {
      const r = deps.ready();
      if (r.ready) return { status: 'ready' as const };
      throw new ApiError(503, 'service_unavailable', 'not_ready', r.reason ?? 'not ready');
    },
  );

  app.get('/metrics', { onRequest: deps.guard, schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'] } }, async (_request, reply) => {
    if (deps.health) {
      for (const [id, h] of deps.health.entries()) deps.metrics.breakerState.set({ endpoint: id }, STATE_VALUE[h.breaker.state()]);
    }
    if (deps.telemetry) {
      const t = deps.telemetry();
      deps.metrics.telemetryQueueDepth.set(t.depth);
      deps.metrics.telemetryDropped.set(t.dropped);
    }
    deps.collect?.();
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
