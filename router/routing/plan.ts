// Which endpoints may serve a request, and in what order to try them. The default follows OpenRouter's
// documented behaviour: endpoints without recent failures first, and among them a weighted random choice
// favouring low price (inverse square), here adjusted by latency, throughput and uptime weights.
import type { Endpoint, Model } from '../../catalog/catalog.ts';
import { supportedParameters } from '../../catalog/public.ts';
import type { RoutingPrefs } from './options.ts';
import type { HealthRegistry } from '../health/registry.ts';
import { recoveryFraction, type SignalTable } from '../health/signals.ts';
import { isHeld, type EndpointSignal } from '../../telemetry/signal.ts';
import type { Sort } from './model-ref.ts';
import { policyExclusion, type NamedPolicy } from '../../governance/policy.ts';

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
export const ASSUMED_COMPLETION_TOKENS = 256;

export interface RouteNeeds {
  model: Model;
  sort: Sort | undefined;
  prefs: RoutingPrefs | undefined;
  /** The caller's organisation and key policies, applied before anything else. */
  policies?: readonly NamedPolicy[];
  /** `:free`: only endpoints that charge nothing. */
  free?: boolean;
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
  /** It misses provider.preferred_min_throughput or preferred_max_latency, so it goes after those that do not. */
  misses_preference: boolean;
  /** Why this router holds it back for slowness it sees in attempts still waiting (null: it does not). */
  local_slow: string | null;
  /** Weight from price, speed and uptime alone, before the fleet's signal. */
  base_weight: number;
  weight: number;
  probability: number;
  /** The fleet signal folded in (null: none fresh, so this router's own knowledge decides). */
  signal: SignalUsed | null;
}

export interface SignalUsed {
  status: EndpointSignal['status'];
  reason: string;
  age_ms: number;
  error_rate: number;
  rate_limited_rate: number;
  ttft_p50_ms: number | null;
  uptime_5m: number | null;
  cap_rps: number | null;
  /** This router's part of the fleet cap, from its share of the endpoint's traffic. */
  local_cap_rps: number | null;
  /** Probability share the signal fixes (down, degraded) or the ramp factor (recovering). */
  effect: string;
}

export interface RoutePlan {
  model: string;
  sort: Sort | 'weighted';
  /** The endpoints to try, in order. */
  order: Endpoint[];
  candidates: CandidateScore[];
  excluded: { endpoint: string; provider: string; reason: string /** The policy that excluded it. */; policy?: string }[];
}

/** A candidate while it is scored: its figures, then its weights (filled in place, step by step). */
interface Live {
  e: Endpoint;
  cost: number;
  ttft: number;
  tps: number;
  uptime: number;
  recent: boolean;
  slow: string | undefined;
  sig: EndpointSignal | undefined;
  localCap: number | null;
  /** Weight from price, speed and uptime alone. */
  base: number;
  /** Weight with the fleet's signal folded in. */
  weight: number;
  effect: string;
  held: boolean;
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
  if (n.free && (e.pricePrompt > 0 || e.priceCompletion > 0)) return 'not free (the model was asked for as :free)';
  if (p?.data_collection === 'deny' && e.dataPolicy.training) return 'its provider may train on prompts (provider.data_collection: deny)';
  if (p?.zdr === true && e.dataPolicy.retainsPrompts) return 'its provider keeps prompts (provider.zdr: only zero-retention endpoints)';
  const missing = p?.requiredParameters?.filter((param) => !supportedParameters(e).includes(param));
  if (missing && missing.length > 0) return `does not support ${missing.join(', ')} (provider.require_parameters)`;
  return undefined;
}

/** A soft preference the endpoint misses (provider.preferred_min_throughput / preferred_max_latency), by this router's medians. */
function missesPreference(c: { tps: number; ttft: number }, p: RoutingPrefs | undefined): boolean {
  return (p?.minThroughput !== undefined && c.tps < p.minThroughput) || (p?.maxLatencyMs !== undefined && c.ttft > p.maxLatencyMs);
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

export function planRoute(n: RouteNeeds, health: HealthRegistry, opts: { now?: number; random?: () => number; weights?: RoutingWeights; signals?: SignalTable } = {}): RoutePlan {
  const now = opts.now ?? Date.now();
  const random = opts.random ?? Math.random;
  const w = opts.weights ?? DEFAULT_WEIGHTS;
  const excluded: RoutePlan['excluded'] = [];
  const live: Live[] = [];

  for (const e of n.model.endpoints) {
    const denied = n.policies && n.policies.length > 0 ? policyExclusion(n.policies, e) : undefined;
    if (denied) {
      excluded.push({ endpoint: e.id, provider: e.provider, reason: denied.reason, policy: denied.policy });
      continue;
    }
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
    const sig = opts.signals?.fresh(e.id, now);
    let localCap: number | null = null;
    if (sig && sig.cap_rps !== null) {
      localCap = localCapRps(sig, h.rate.count(now, sig.window_s * 1000) / Math.max(sig.window_s, 1));
      if (h.rate.atCap(now, localCap)) {
        excluded.push({ endpoint: e.id, provider: e.provider, reason: `at its learned traffic cap (${localCap.toFixed(1)} of ${sig.cap_rps.toFixed(1)} attempts/s fleet-wide)` });
        continue;
      }
    }
    const s = h.stats.snapshot(now);
    const slow = h.pending.slow(now);
    const cost = (n.promptTokens * e.pricePrompt + (n.maxTokens ?? ASSUMED_COMPLETION_TOKENS) * e.priceCompletion) / 1e6;
    live.push({
      e,
      cost,
      ttft: s.ttft_p50_ms ?? e.ttftMs,
      tps: s.tokens_per_second_p50 ?? e.tokensPerSecond,
      // A fresh signal says how it answers now; the 5-minute local uptime would keep punishing a recovered
      // endpoint for minutes after its ramp back is over.
      uptime: sig ? 1 - sig.error_rate : (s.uptime_5m ?? 1),
      // Without fleet signals there is no probe share to hold a slow endpoint at: it goes last, like a failure.
      recent:
        (now - h.stats.lastFailureAt < RECENT_FAILURE_MS && !signalCovers(sig, h.stats.lastFailureAt, opts.signals?.policy.minRequests ?? 0)) ||
        (slow !== undefined && !opts.signals),
      slow,
      sig,
      localCap,
      base: 0,
      weight: 0,
      effect: 'none',
      held: false,
    });
  }

  let minCost = Infinity;
  let minTtft = Infinity;
  let maxTps = -Infinity;
  for (const c of live) {
    if (c.cost < minCost) minCost = c.cost;
    if (c.ttft < minTtft) minTtft = c.ttft;
    if (c.tps > maxTps) maxTps = c.tps;
  }
  // Scored in place: this runs on every request, and a copy of each candidate per step was visible in its cost.
  for (const c of live) {
    // A free endpoint (cost 0) would divide by zero: treat it as the cheapest.
    c.base =
      (minCost > 0 ? (minCost / c.cost) ** 2 : c.cost === 0 ? 1 : 0) *
      (minTtft > 0 ? (minTtft / Math.max(c.ttft, 1e-9)) ** w.latency : 1) *
      (maxTps > 0 ? (c.tps / maxTps) ** w.throughput : 1) *
      Math.max(c.uptime, 0.01) ** w.uptime;
  }
  applySignals(live, now, opts.signals);

  let ordered: typeof live;
  if (n.sort === undefined) {
    ordered = [
      ...weightedOrder(
        live.filter((c) => !c.recent),
        random,
      ),
      ...weightedOrder(
        live.filter((c) => c.recent),
        random,
      ),
    ];
  } else {
    const by = n.sort;
    const sorted = [...live].sort((a, b) =>
      by === 'price' ? a.cost - b.cost || a.ttft - b.ttft : by === 'latency' ? a.ttft - b.ttft || a.cost - b.cost : b.tps - a.tps || a.cost - b.cost,
    );
    // An explicit sort still avoids what the fleet knows is down or degraded, unless nothing else is left.
    ordered = [...sorted.filter((c) => !c.held), ...sorted.filter((c) => c.held)];
  }

  if (n.prefs?.minThroughput !== undefined || n.prefs?.maxLatencyMs !== undefined) {
    ordered = [...ordered.filter((c) => !missesPreference(c, n.prefs)), ...ordered.filter((c) => missesPreference(c, n.prefs))];
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

  const fresh = live.filter((c) => !c.recent);
  const totalWeight = (fresh.length ? fresh : live).reduce((s, c) => s + c.weight, 0);
  return {
    model: n.model.id,
    sort: n.sort ?? 'weighted',
    order: ordered.map((c) => c.e),
    candidates: live.map((c) => ({
      endpoint: c.e.id,
      provider: c.e.provider,
      price_prompt: c.e.pricePrompt,
      price_completion: c.e.priceCompletion,
      expected_cost_usd: c.cost,
      ttft_ms: Math.round(c.ttft),
      tokens_per_second: Math.round(c.tps * 10) / 10,
      uptime: c.uptime,
      recent_failure: c.recent,
      misses_preference: missesPreference(c, n.prefs),
      local_slow: c.slow ?? null,
      base_weight: c.base,
      weight: c.weight,
      probability: n.sort === undefined && totalWeight > 0 && (fresh.length === 0 || !c.recent) ? c.weight / totalWeight : 0,
      signal: c.sig ? signalUsed(c.sig, now, c.localCap, c.effect) : null,
    })),
    excluded,
  };
}

/**
 * Whether a fresh fleet signal replaces the blunt "failed lately" demotion (the breaker still acts first):
 * one that rules the endpoint unhealthy or recovering steers it anyway, and one that calls it healthy does
 * only if it was computed after that failure and judged enough attempts; "healthy" for want of data says
 * nothing against what this router just saw.
 */
function signalCovers(sig: EndpointSignal | undefined, lastFailureAt: number, minRequests: number): boolean {
  if (!sig) return false;
  return sig.status !== 'healthy' || (sig.computed_at >= lastFailureAt && sig.requests >= minRequests);
}

/** This router's part of a fleet-wide cap: the cap times its share of the fleet's attempts (bounded, so a
 * router that just started, or was starved, still gets a little). */
export function localCapRps(sig: EndpointSignal, localPerSecond: number): number {
  const cap = sig.cap_rps ?? Infinity;
  if (sig.attempts_per_second <= 0) return cap;
  return cap * Math.min(1, Math.max(0.1, localPerSecond / sig.attempts_per_second));
}

/**
 * Fold fresh signals into the weights (in place). Down and degraded endpoints get a fixed small share of the first
 * choice (their probe share, so recovery is seen); a recovering one ramps back from the degraded share to its
 * full weight; the others share the rest in proportion to their own weights. With every candidate held,
 * steering is pointless: the plain weights stand.
 */
function applySignals(items: Live[], now: number, table: SignalTable | undefined): void {
  if (!table) {
    for (const c of items) setWeight(c, c.base, 'none', false);
    return;
  }
  const p = table.policy;
  let freeWeight = 0;
  let heldShare = 0;
  let free = 0;
  for (const c of items) {
    if (isHeldHere(c)) heldShare += shareOf(c, p);
    else {
      free++;
      freeWeight += c.base * rampOf(c, now, p.recoverMs);
    }
  }
  if (free === 0) {
    for (const c of items) setWeight(c, c.base, 'every candidate is held: plain weights', false);
    return;
  }
  heldShare = Math.min(0.5, heldShare);
  for (const c of items) {
    if (isHeldHere(c)) {
      const why = isHeld(c.sig?.status) ? '' : `: ${c.slow}`;
      const share = shareOf(c, p);
      setWeight(c, weightFor(share, freeWeight, heldShare), `held at ${share * 100}% of first choices${why}`, true);
      continue;
    }
    const r = rampOf(c, now, p.recoverMs);
    if (r >= 1) setWeight(c, c.base, 'none', false);
    else setWeight(c, Math.max(c.base * r, weightFor(p.degradedShare, freeWeight, heldShare)), `ramping back: ${Math.round(r * 100)}% of its weight`, false);
  }
}

/** Weight w gives probability w / total: the weight that yields share q of the total beside the free ones. */
function weightFor(q: number, freeWeight: number, heldShare: number): number {
  return freeWeight > 0 ? (q * freeWeight) / (1 - heldShare) : q;
}

function setWeight(c: Live, weight: number, effect: string, held: boolean): void {
  c.weight = weight;
  c.effect = effect;
  c.held = held;
}

/** Held back here: the fleet holds it down or degraded, or this router sees it slow in its waiting attempts
 * (which the signal, seeing slow answers only once they end, takes over later). */
const isHeldHere = (c: Live): boolean => isHeld(c.sig?.status) || c.slow !== undefined;
const shareOf = (c: Live, p: SignalTable['policy']): number => (c.sig?.status === 'down' ? p.probeShare : p.degradedShare);
const rampOf = (c: Live, now: number, recoverMs: number): number => (c.sig ? recoveryFraction(c.sig, now, recoverMs) : 1);

function signalUsed(s: EndpointSignal, now: number, localCap: number | null, effect: string): SignalUsed {
  return {
    status: s.status,
    reason: s.reason,
    age_ms: Math.max(0, now - s.computed_at),
    error_rate: s.error_rate,
    rate_limited_rate: s.rate_limited_rate,
    ttft_p50_ms: s.ttft_p50_ms,
    uptime_5m: s.uptime_5m,
    cap_rps: s.cap_rps,
    local_cap_rps: localCap,
    effect,
  };
}

/**
 * `provider.sort` with `partition: "none"`: every model's endpoints in one order by the sort's figure (as
 * planned for each), instead of one model's endpoints after another's.
 */
export function acrossModels(plans: RoutePlan[], by: Sort): Endpoint[] {
  const figures = new Map(plans.flatMap((p) => p.candidates.map((c) => [c.endpoint, c] as const)));
  const key = (e: Endpoint) => {
    const c = figures.get(e.id);
    if (!c) return Infinity;
    return by === 'price' ? c.expected_cost_usd : by === 'latency' ? c.ttft_ms : -c.tokens_per_second;
  };
  return plans.flatMap((p) => p.order).sort((a, b) => key(a) - key(b));
}
