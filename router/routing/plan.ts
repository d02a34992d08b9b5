// Which endpoints may serve a request, and in what order to try them. The default follows OpenRouter's
// documented behaviour: endpoints without recent failures first, and among them a weighted random choice
// favouring low price (inverse square), here adjusted by latency, throughput and uptime weights.
import type { Endpoint, Model } from '../../catalog/catalog.ts';
import type { ProviderPrefs } from '../chat-schema.ts';
import type { HealthRegistry } from '../health/registry.ts';
import type { Sort } from './model-ref.ts';

export interface RoutingWeights {
  /** Exponent on (fastest time to first token / this one's). */
  latency: number;
  /** Exponent on (this throughput / best throughput). */
  throughput: number;
  /** Exponent on local uptime. */
  uptime: number;
}

export const DEFAULT_WEIGHTS: RoutingWeights = Object.freeze({ latency: 0.5, throughput: 0.3, uptime: 4 });

/** An endpoint that failed within this span is tried only after those that did not. */
export const RECENT_FAILURE_MS = 30_000;
/** Completion length assumed for price comparison when the request sets no max_tokens. */
const ASSUMED_COMPLETION_TOKENS = 256;

export interface RouteNeeds {
  model: Model;
  sort: Sort | undefined;
  prefs: ProviderPrefs | undefined;
  promptTokens: number;
  maxTokens: number | undefined;
  needsTools: boolean;
  needsResponseFormat: boolean;
}

export interface CandidateScore {
  endpoint: string;
  provider: string;
  price_prompt: number;
  price_completion: number;
  expected_cost_usd: number;
  ttft_ms: number;
  tokens_per_second: number;
  uptime: number;
  recent_failure: boolean;
  weight: number;
  probability: number;
}

export interface RoutePlan {
  model: string;
  sort: Sort | 'weighted';
  /** The endpoints to try, in order. */
  order: Endpoint[];
  candidates: CandidateScore[];
  excluded: { endpoint: string; provider: string; reason: string }[];
}

function exclusionReason(e: Endpoint, n: RouteNeeds): string | undefined {
  const p = n.prefs;
  if (p?.only && !p.only.includes(e.provider)) return 'not in provider.only';
  if (p?.ignore?.includes(e.provider)) return 'in provider.ignore';
  if (p?.quantizations && !p.quantizations.includes(e.quantization)) return `quantization ${e.quantization} not requested`;
  if (n.promptTokens + (n.maxTokens ?? 0) > e.contextLength) return `context_length ${e.contextLength} too small`;
  if (n.maxTokens !== undefined && n.maxTokens > e.maxCompletionTokens) return `max_tokens above endpoint limit ${e.maxCompletionTokens}`;
  if (n.needsTools && !e.supportsTools) return 'tools not supported';
  if (n.needsResponseFormat && !e.supportsResponseFormat) return 'response_format not supported';
  if (p?.max_price?.prompt !== undefined && e.pricePrompt > p.max_price.prompt) return 'prompt price above max_price';
  if (p?.max_price?.completion !== undefined && e.priceCompletion > p.max_price.completion) return 'completion price above max_price';
  return undefined;
}

/** Weighted sampling without replacement: an order in which heavier items tend to come first. */
function weightedOrder<T extends { weight: number }>(items: T[], random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((s, x) => s + x.weight, 0);
    let r = random() * total;
    let i = 0;
    while (i < pool.length - 1 && r >= pool[i].weight) r -= pool[i++].weight;
    out.push(pool.splice(i, 1)[0]);
  }
  return out;
}

export function planRoute(
  n: RouteNeeds,
  health: HealthRegistry,
  opts: { now?: number; random?: () => number; weights?: RoutingWeights } = {},
): RoutePlan {
  const now = opts.now ?? Date.now();
  const random = opts.random ?? Math.random;
  const w = opts.weights ?? DEFAULT_WEIGHTS;
  const excluded: RoutePlan['excluded'] = [];
  const live: { e: Endpoint; cost: number; ttft: number; tps: number; uptime: number; recent: boolean }[] = [];

  for (const e of n.model.endpoints) {
    const reason = exclusionReason(e, n);
    if (reason) {
      excluded.push({ endpoint: e.id, provider: e.provider, reason });
      continue;
    }
    const h = health.get(e);
    if (!h.breaker.available(now)) {
      excluded.push({ endpoint: e.id, provider: e.provider, reason: 'circuit open' });
      continue;
    }
    if (h.stats.coolUntil > now) {
      excluded.push({ endpoint: e.id, provider: e.provider, reason: `rate limited for ${Math.ceil((h.stats.coolUntil - now) / 1000)} s` });
      continue;
    }
    const s = h.stats.snapshot(now);
    const cost = (n.promptTokens * e.pricePrompt + (n.maxTokens ?? ASSUMED_COMPLETION_TOKENS) * e.priceCompletion) / 1e6;
    live.push({
      e,
      cost,
      ttft: s.ttft_p50_ms ?? e.ttftMs,
      tps: s.tokens_per_second_p50 ?? e.tokensPerSecond,
      uptime: s.uptime_5m ?? 1,
      recent: now - h.stats.lastFailureAt < RECENT_FAILURE_MS,
    });
  }

  const minCost = Math.min(...live.map((c) => c.cost));
  const minTtft = Math.min(...live.map((c) => c.ttft));
  const maxTps = Math.max(...live.map((c) => c.tps));
  const scored = live.map((c) => ({
    ...c,
    // A free endpoint (cost 0) would divide by zero: treat it as the cheapest.
    weight:
      (minCost > 0 ? (minCost / c.cost) ** 2 : c.cost === 0 ? 1 : 0) *
      (minTtft > 0 ? (minTtft / Math.max(c.ttft, 1e-9)) ** w.latency : 1) *
      (maxTps > 0 ? (c.tps / maxTps) ** w.throughput : 1) *
      Math.max(c.uptime, 0.01) ** w.uptime,
  }));

  let ordered: typeof scored;
  if (n.sort === 'price') ordered = [...scored].sort((a, b) => a.cost - b.cost || a.ttft - b.ttft);
  else if (n.sort === 'latency') ordered = [...scored].sort((a, b) => a.ttft - b.ttft || a.cost - b.cost);
  else if (n.sort === 'throughput') ordered = [...scored].sort((a, b) => b.tps - a.tps || a.cost - b.cost);
  else {
    ordered = [
      ...weightedOrder(scored.filter((c) => !c.recent), random),
      ...weightedOrder(scored.filter((c) => c.recent), random),
    ];
  }

  const prefOrder = n.prefs?.order;
  const allowFallbacks = n.prefs?.allow_fallbacks !== false;
  if (prefOrder && prefOrder.length > 0) {
    const listed = prefOrder.flatMap((slug) => ordered.filter((c) => c.e.provider === slug));
    const rest = ordered.filter((c) => !prefOrder.includes(c.e.provider));
    ordered = allowFallbacks ? [...listed, ...rest] : listed;
  } else if (!allowFallbacks) {
    ordered = ordered.slice(0, 1);
  }

  const fresh = scored.filter((c) => !c.recent);
  const totalWeight = (fresh.length ? fresh : scored).reduce((s, c) => s + c.weight, 0);
  return {
    model: n.model.id,
    sort: n.sort ?? 'weighted',
    order: ordered.map((c) => c.e),
    candidates: scored.map((c) => ({
      endpoint: c.e.id,
      provider: c.e.provider,
      price_prompt: c.e.pricePrompt,
      price_completion: c.e.priceCompletion,
      expected_cost_usd: c.cost,
      ttft_ms: Math.round(c.ttft),
      tokens_per_second: Math.round(c.tps * 10) / 10,
      uptime: c.uptime,
      recent_failure: c.recent,
      weight: c.weight,
      probability: n.sort === undefined && totalWeight > 0 && (fresh.length === 0 || !c.recent) ? c.weight / totalWeight : 0,
    })),
    excluded,
  };
}
