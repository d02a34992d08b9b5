import { describe, expect, it } from 'vitest';
import { catalog, breaker, needs } from '../helpers/routing.ts';
import { HealthRegistry } from '../../router/health/registry.ts';
import { SignalTable } from '../../router/health/signals.ts';
import { planRoute } from '../../router/routing/plan.ts';
import { type AutoOptions, chooseAuto, parseAuto } from '../../router/routing/auto.ts';
import type { RoutingPrefs } from '../../router/routing/options.ts';
import { PREFERENCE_TABLE_VERSION, type PreferenceTable } from '../../telemetry/preference-table.ts';
import { SIGNAL_VERSION, type EndpointSignal } from '../../telemetry/signal.ts';

const T = 1_700_000_000_000;
const SONNET = 'anthropic/claude-sonnet-4.5';
const DEEPSEEK = 'deepseek/deepseek-chat';
const LLAMA = 'meta-llama/llama-3.3-70b-instruct';
const MINI = 'openai/gpt-4o-mini';

const table = (category: string, scores: [string, number, number, number][]): PreferenceTable => ({
  v: PREFERENCE_TABLE_VERSION,
  kind: 'preference',
  category,
  period: 'month',
  computed_at: T - 60_000,
  scores: scores.map(([model, score, low, high]) => ({ model, score, low, high, comparisons: 500 })),
});
const PROGRAMMING = table('programming', [
  [SONNET, 1.0, 0.8, 1.2],
  [DEEPSEEK, 0.9, 0.7, 1.1], // within the best's interval, and far cheaper
  [LLAMA, 0.2, 0.0, 0.4],
  [MINI, -0.5, -0.7, -0.3],
]);

const down = (model: string): EndpointSignal[] =>
  catalog.model(model)!.endpoints.map((e) => ({
    v: SIGNAL_VERSION,
    endpoint_id: e.id,
    provider: e.provider,
    model,
    computed_at: T,
    status: 'down',
    status_since: T - 30_000,
    reason: 'test: every attempt fails',
    window_s: 10,
    requests: 50,
    attempts_per_second: 5,
    error_rate: 1,
    rate_limited_rate: 0,
    errors_by_class: { upstream_5xx: 50 },
    latency_p50_ms: null,
    latency_p95_ms: null,
    ttft_p50_ms: null,
    ttft_p95_ms: null,
    tokens_per_second: null,
    uptime_5m: 0,
    uptime_30m: 0,
    uptime_1d: 0.5,
    baseline_ttft_p50_ms: 300,
    peer_ttft_p50_ms: 300,
    cap_rps: null,
  }));

function choose(
  opts: {
    options?: AutoOptions;
    prefs?: RoutingPrefs;
    needsTools?: boolean;
    signals?: EndpointSignal[];
    random?: () => number;
    explore?: number;
    table?: PreferenceTable;
    overall?: PreferenceTable;
  } = {},
) {
  const health = new HealthRegistry(breaker);
  const signals = new SignalTable({ maxAgeMs: 10_000, probeShare: 0.01, degradedShare: 0.02, recoverMs: 15_000, minRequests: 5 });
  if (opts.signals) signals.update(opts.signals, T);
  const plans = new Map<string, ReturnType<typeof planRoute>>();
  const choice = chooseAuto({
    catalog,
    category: 'programming',
    table: 'table' in opts ? opts.table : PROGRAMMING,
    overall: opts.overall,
    options: opts.options,
    plan: (model) => {
      const p = planRoute(needs({ model, prefs: opts.prefs, needsTools: opts.needsTools ?? false }), health, { now: T, signals, random: () => 0.5 });
      plans.set(model.id, p);
      return p;
    },
    random: opts.random ?? (() => 0.99),
    exploreShare: opts.explore ?? 0,
  });
  return { choice, plans, chosen: choice.models[0].id };
}

describe('switchboard/auto', () => {
  it('balanced: the cheapest model whose interval reaches the best one, and says why', () => {
    const { choice, chosen } = choose();
    expect(chosen).toBe(DEEPSEEK);
    expect(choice.models.map((m) => m.id)).toEqual([DEEPSEEK, SONNET, LLAMA]); // then the fallbacks
    const e = choice.explanation;
    expect(e).toMatchObject({ category: 'programming', optimize: 'balanced', explored: false, scores: { from: 'category', period: 'month' } });
    expect(e.chosen).toMatchObject({ model: DEEPSEEK, score: 0.9, low: 0.7, high: 1.1 });
    expect(e.chosen.reason).toMatch(/cheapest model not credibly below the best/);
    expect(e.chosen.expected_cost_usd).toBeGreaterThan(0);
    expect(e.passed_over.map((p) => [p.model, p.reason])).toEqual([
      [SONNET, 'dearer'],
      [LLAMA, 'credibly below the best'],
      [MINI, 'credibly below the best'],
    ]);
  });

  it('preference takes the best score; price the cheapest, above min_score when set', () => {
    expect(choose({ options: { optimize: 'preference' } }).chosen).toBe(SONNET);
    const cheapest = choose({ options: { optimize: 'price' } });
    const costs = [cheapest.choice.explanation.chosen, ...cheapest.choice.explanation.passed_over].map((c) => c.expected_cost_usd!);
    expect(cheapest.choice.explanation.chosen.expected_cost_usd).toBe(Math.min(...costs));
    const floor = choose({ options: { optimize: 'price', min_score: 0.1 } });
    expect([LLAMA, DEEPSEEK]).toContain(floor.chosen);
    expect(floor.choice.explanation.passed_over.find((p) => p.model === MINI)?.reason).toMatch(/below min_score/);
    // A percentile of the category's scores: p75 leaves the top quarter.
    expect(choose({ options: { optimize: 'price', min_score: 'p75' } }).chosen).toBe(SONNET);
  });

  it('never chooses a model above max_price: its endpoints are excluded as a named model would have them', () => {
    const { chosen, plans, choice } = choose({ prefs: { max_price: { completion: 1.0 } } });
    expect(chosen).toBe(DEEPSEEK);
    for (const e of plans.get(DEEPSEEK)!.order) expect(e.priceCompletion).toBeLessThanOrEqual(1.0);
    expect(choice.explanation.passed_over.find((p) => p.model === SONNET)?.reason).toMatch(/no endpoint fits: completion price above max_price/);
    // Exploration never goes above it either: every fitting model is explored at one time or another.
    for (let i = 0; i < 20; i++) {
      const r = choose({ prefs: { max_price: { completion: 1.0 } }, explore: 1, random: () => (i + 0.5) / 20 });
      for (const e of r.plans.get(r.chosen)!.order) expect(e.priceCompletion).toBeLessThanOrEqual(1.0);
      expect(r.chosen).not.toBe(SONNET);
    }
  });

  it('respects provider lists, data policy, tools and the allowed models', () => {
    expect(choose({ prefs: { only: ['openai', 'azure'] } }).chosen).toBe(MINI);
    const zdr = choose({ prefs: { zdr: true } });
    for (const e of zdr.plans.get(zdr.chosen)!.order) expect(e.dataPolicy.retainsPrompts).toBe(false);
    const allowed = choose({ options: { models: [LLAMA, MINI] } });
    expect(allowed.chosen).toBe(LLAMA);
    expect(allowed.choice.explanation.passed_over.filter((p) => p.reason === 'not in switchboard.auto.models').map((p) => p.model)).toEqual([SONNET, DEEPSEEK]);
    const tools = choose({ needsTools: true });
    for (const e of tools.plans.get(tools.chosen)!.order) expect(e.supportsTools).toBe(true);
  });

  it("falls back when the preferred model's endpoints are all down by the fleet's signals", () => {
    const { chosen, choice } = choose({ signals: down(DEEPSEEK) });
    expect(chosen).toBe(SONNET);
    expect(choice.explanation.passed_over.find((p) => p.model === DEEPSEEK)?.reason).toBe('its endpoints are down (fleet signals)');
  });

  it('explores a small share of requests, only among fitting models no dearer than the choice', () => {
    const r = choose({ explore: 0.5, random: () => 0.1 });
    expect(r.choice.explanation.explored).toBe(true);
    expect(r.choice.explanation.chosen.reason).toMatch(/exploration/);
    expect(r.choice.explanation.chosen.expected_cost_usd!).toBeLessThanOrEqual(choose().choice.explanation.chosen.expected_cost_usd!);
    expect(choose({ explore: 0.5, random: () => 0.9 }).choice.explanation.explored).toBe(false);
  });

  it('uses the scores of all traffic when the category has none; without any, a clear 503', () => {
    const r = choose({ table: undefined, overall: { ...PROGRAMMING, category: '' } });
    expect(r.choice.explanation.scores?.from).toBe('all traffic');
    expect(() => choose({ table: undefined })).toThrow(/no revealed-preference scores yet/);
    expect(() => choose({ options: { models: ['x-ai/grok-4'] } })).toThrow(/no scored model can serve this request/);
  });

  it('reads the model reference', () => {
    expect(parseAuto('switchboard/auto')).toEqual({ category: undefined });
    expect(parseAuto('switchboard/auto:programming')).toEqual({ category: 'programming' });
    expect(parseAuto('openai/gpt-4o')).toBeUndefined();
    expect(() => parseAuto('switchboard/auto:cooking')).toThrow(/category must be one of/);
  });
});
