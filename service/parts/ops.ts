// What /readyz, /metrics and the stop's last line report: readiness (not while draining or while the
// ingest consumer is down), gauges computed at scrape time, and telemetry's queue and drops.
import type { Catalog } from '../../catalog/catalog.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { HealthRegistry } from '../../router/health/registry.ts';
import { endpointStatuses } from '../../router/routing/status.ts';
import type { RoutingWeights } from '../../router/routing/plan.ts';
import type { OpsDeps } from '../ops-routes.ts';
import type { SignalParts } from './signals.ts';
import type { Telemetry } from './telemetry.ts';

const STATUS_VALUE = { healthy: 0, recovering: 1, degraded: 2, down: 3 } as const;

export function opsOf(deps: {
  metrics: Metrics;
  routes: boolean;
  catalog: Catalog;
  health: HealthRegistry;
  signals: SignalParts;
  weights: () => RoutingWeights;
  telemetry: Telemetry;
  draining: () => boolean;
}): Omit<OpsDeps, 'metrics' | 'health'> {
  const { metrics, telemetry, health, catalog } = deps;
  const { signals, computer } = deps.signals;
  return {
    collect: () => {
      if (signals.lastReceivedAt > 0) metrics.signalAge.set((Date.now() - signals.lastReceivedAt) / 1000);
      if (computer) {
        metrics.signalsComputed.set(computer.ticks);
        metrics.signalTickSeconds.set(computer.lastTickMs / 1000);
      }
      if (!deps.routes) return;
      for (const r of endpointStatuses(catalog, health, signals, deps.weights())) {
        // Only endpoints this router has used or heard about: the whole catalog would be noise.
        if (r.signal === null && r.breaker === 'closed' && health.get(r.endpoint_id).stats.snapshot().requests_5m === 0) continue;
        const labels = { endpoint: r.endpoint_id, model: r.model, provider: r.provider };
        metrics.routeWeight.set(labels, r.weight);
        metrics.routeShare.set(labels, r.share);
        if (r.status !== 'unknown') metrics.endpointStatus.set({ endpoint: r.endpoint_id }, STATUS_VALUE[r.status]);
      }
    },
    ready: () => {
      if (deps.draining()) return { ready: false, reason: 'shutting down' };
      const c = telemetry.consumer;
      if (c && c.state !== 'running') return { ready: false, reason: `ingest consumer ${c.state}${c.lastError ? `: ${c.lastError}` : ''}` };
      return { ready: true };
    },
    telemetry: () => {
      const k = telemetry.kafkaSink;
      if (k) {
        metrics.spoolBytes.set(k.spool.bytes);
        metrics.spooledEvents.set(k.spooled);
        metrics.replayedEvents.set(k.replayed);
      }
      return { depth: telemetry.bus.waiting, dropped: telemetry.dropped() };
    },
  };
}
