// Every endpoint's status and the weight in force now, as this process sees it: the fleet signal (if fresh)
// folded with this router's breaker, as planRoute would for a typical request. The analytics role, which
// routes nothing, shows the signals' effect alone.
import type { Catalog } from '../../catalog/catalog.ts';
import type { EndpointSignal } from '../../telemetry/signal.ts';
import type { HealthRegistry } from '../health/registry.ts';
import type { SignalTable } from '../health/signals.ts';
import { planRoute, type RoutingWeights } from './plan.ts';

/** The request the shares are computed for: a short chat, no tools, default sampling. */
const TYPICAL = { sort: undefined, prefs: undefined, promptTokens: 1000, maxTokens: undefined, needsTools: false, needsResponseFormat: false } as const;

export interface EndpointStatusRow {
  endpoint_id: string;
  provider: string;
  model: string;
  /** The signal's status; `unknown` when no signal was ever received. */
  status: EndpointSignal['status'] | 'unknown';
  /** The last signal is older than the configured age: routing ignores it. */
  stale: boolean;
  breaker: string;
  base_weight: number;
  weight: number;
  /** Probability of being the first choice for a typical request to this model. */
  share: number;
  excluded: string | null;
  effect: string;
  signal: EndpointSignal | null;
}

export function endpointStatuses(catalog: Catalog, health: HealthRegistry, table: SignalTable, weights: RoutingWeights, now = Date.now()): EndpointStatusRow[] {
  const rows: EndpointStatusRow[] = [];
  for (const model of catalog.models) {
    const plan = planRoute({ model, ...TYPICAL }, health, { now, weights, signals: table, random: () => 0.5 });
    const scored = new Map(plan.candidates.map((c) => [c.endpoint, c]));
    const excluded = new Map(plan.excluded.map((x) => [x.endpoint, x.reason]));
    for (const e of model.endpoints) {
      const c = scored.get(e.id);
      const latest = table.latest(e.id) ?? null;
      rows.push({
        endpoint_id: e.id,
        provider: e.provider,
        model: model.id,
        status: latest?.status ?? 'unknown',
        stale: latest !== null && table.fresh(e.id, now) === undefined,
        breaker: health.get(e).breaker.state(now),
        base_weight: c?.base_weight ?? 0,
        weight: c?.weight ?? 0,
        share: c?.probability ?? 0,
        excluded: excluded.get(e.id) ?? null,
        effect: effectOf(c?.signal?.effect ?? (c?.local_slow ? `held here: ${c.local_slow}` : undefined), excluded.get(e.id), latest, table.fresh(e.id, now) !== undefined),
        signal: latest,
      });
    }
  }
  return rows;
}

function effectOf(applied: string | undefined, excluded: string | undefined, latest: EndpointSignal | null, fresh: boolean): string {
  if (excluded) return `not routed: ${excluded}`;
  if (applied) return applied;
  if (!latest) return 'no signal: local knowledge only';
  return fresh ? 'none' : 'signal stale: local knowledge only';
}
