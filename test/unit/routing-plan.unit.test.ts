import { describe, expect, it } from 'vitest';
import type { Model } from '../../catalog/catalog.ts';
import { breaker, llama, needs } from '../helpers/routing.ts';
import { HealthRegistry } from '../../router/health/registry.ts';
import { planRoute, RECENT_FAILURE_MS } from '../../router/routing/plan.ts';
import { parseModelRef } from '../../router/routing/model-ref.ts';
import { seededRandom } from '../../core/random.ts';

/** Deterministic pseudo-random numbers, so statistical assertions are repeatable. */
const seeded = seededRandom;

describe('model references', () => {
  it('reads :floor as price sort and :nitro as throughput sort', () => {
    expect(parseModelRef('a/b:floor')).toEqual({ id: 'a/b', sort: 'price', free: false });
    expect(parseModelRef('a/b:nitro')).toEqual({ id: 'a/b', sort: 'throughput', free: false });
    expect(parseModelRef('a/b:free')).toEqual({ id: 'a/b', sort: undefined, free: true });
    expect(parseModelRef('a/b')).toEqual({ id: 'a/b', sort: undefined, free: false });
  });
});

describe('candidate filtering', () => {
  const health = () => new HealthRegistry(breaker);

  it('excludes endpoints whose context cannot hold prompt plus max_tokens', () => {
    const plan = planRoute(needs({ promptTokens: 70_000 }), health());
    expect(plan.order.map((e) => e.provider)).not.toContain('cerebras'); // 65k context
    expect(plan.excluded.find((x) => x.provider === 'cerebras')?.reason).toMatch(/context_length/);
  });

  it('excludes endpoints whose max completion is below max_tokens', () => {
    const plan = planRoute(needs({ maxTokens: 5000 }), health());
    expect(plan.order.map((e) => e.provider)).not.toContain('sambanova'); // 3072 max out
  });

  it('keeps only tool-capable endpoints when tools are sent', () => {
    const plan = planRoute(needs({ needsTools: true }), health());
    expect(plan.order.length).toBeGreaterThan(0);
    expect(plan.order.every((e) => e.supportsTools)).toBe(true);
    expect(plan.excluded.map((x) => x.provider)).toContain('lambda');
  });

  it('honours only, ignore, quantizations and max_price', () => {
    expect(
      planRoute(needs({ prefs: { only: ['groq', 'together'] } }), health())
        .order.map((e) => e.provider)
        .sort(),
    ).toEqual(['groq', 'together']);
    expect(planRoute(needs({ prefs: { ignore: ['groq'] } }), health()).order.map((e) => e.provider)).not.toContain('groq');
    expect(planRoute(needs({ prefs: { quantizations: ['bf16'] } }), health()).order.every((e) => e.quantization === 'bf16')).toBe(true);
    const cheap = planRoute(needs({ prefs: { max_price: { prompt: 0.2, completion: 0.5 } } }), health()).order;
    expect(cheap.length).toBeGreaterThan(0);
    expect(cheap.every((e) => e.pricePrompt <= 0.2 && e.priceCompletion <= 0.5)).toBe(true);
  });
});

describe('ordering', () => {
  it('sorts by price, latency or throughput when asked', () => {
    const h = new HealthRegistry(breaker);
    const byPrice = planRoute(needs({ sort: 'price' }), h).order;
    expect(byPrice[0].provider).toBe('lambda'); // 0.12/0.30, the cheapest
    const costs = byPrice.map((e) => 100 * e.pricePrompt + 256 * e.priceCompletion);
    expect([...costs].sort((a, b) => a - b)).toEqual(costs);
    expect(planRoute(needs({ sort: 'throughput' }), h).order[0].provider).toBe('cerebras');
    expect(planRoute(needs({ sort: 'latency' }), h).order[0].provider).toBe('cerebras'); // 180 ms ttft
  });

  it('among endpoints alike but for price, weight follows the inverse square of price', () => {
    const base = llama.endpoints[0];
    const twin: Model = {
      ...llama,
      endpoints: [
        { ...base, id: 'a', provider: 'a', pricePrompt: 1, priceCompletion: 1 },
        { ...base, id: 'b', provider: 'b', pricePrompt: 2, priceCompletion: 2 },
      ],
    };
    const plan = planRoute(needs({ model: twin }), new HealthRegistry(breaker));
    const [a, b] = plan.candidates;
    expect(a.weight / b.weight).toBeCloseTo(4, 9);
    expect(a.probability).toBeCloseTo(0.8, 9);
  });

  it('first picks follow the explained probabilities', () => {
    const h = new HealthRegistry(breaker);
    const random = seeded(7);
    const n = 20_000;
    const firsts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const p = planRoute(needs(), h, { random }).order[0].provider;
      firsts.set(p, (firsts.get(p) ?? 0) + 1);
    }
    for (const c of planRoute(needs(), h).candidates) {
      const sigma = Math.sqrt((c.probability * (1 - c.probability)) / n);
      expect(Math.abs((firsts.get(c.provider) ?? 0) / n - c.probability)).toBeLessThan(4 * sigma + 1e-9);
    }
    // The cheapest endpoint leads, and the priciest (Together, Fireworks) trail it.
    const top = [...firsts.entries()].sort((x, y) => y[1] - x[1])[0][0];
    expect(top).toBe('lambda');
    expect(firsts.get('lambda')!).toBeGreaterThan(3 * (firsts.get('together') ?? 0));
  });

  it('the probabilities in the explanation sum to one and follow the weights', () => {
    const plan = planRoute(needs(), new HealthRegistry(breaker));
    const sum = plan.candidates.reduce((s, c) => s + c.probability, 0);
    expect(sum).toBeCloseTo(1, 9);
    const top = [...plan.candidates].sort((a, b) => b.weight - a.weight)[0];
    expect(top.probability).toBe(Math.max(...plan.candidates.map((c) => c.probability)));
  });

  it('puts endpoints with a recent failure after those without', () => {
    const h = new HealthRegistry(breaker);
    const now = 1_000_000;
    h.get('lambda:meta-llama/llama-3.3-70b-instruct').stats.record('failure', now - 1000);
    for (let i = 0; i < 50; i++) {
      const order = planRoute(needs(), h, { now, random: seeded(i) }).order;
      expect(order[order.length - 1].provider).toBe('lambda');
    }
    // Once the failure is old, it may lead again.
    const later = planRoute(needs({ sort: 'price' }), h, { now: now + RECENT_FAILURE_MS + 1 }).order;
    expect(later[0].provider).toBe('lambda');
  });

  it('leaves out endpoints whose breaker is open or which asked to retry later', () => {
    const h = new HealthRegistry(breaker);
    const now = 5_000_000;
    for (let i = 0; i < 3; i++) h.get('groq:meta-llama/llama-3.3-70b-instruct').breaker.onFailure(now);
    h.get('together:meta-llama/llama-3.3-70b-instruct').stats.coolUntil = now + 2000;
    const plan = planRoute(needs(), h, { now });
    expect(plan.order.map((e) => e.provider)).not.toContain('groq');
    expect(plan.order.map((e) => e.provider)).not.toContain('together');
    expect(plan.excluded.find((x) => x.provider === 'groq')?.reason).toBe('circuit open');
  });

  it('provider.order goes first; allow_fallbacks:false keeps only those', () => {
    const h = new HealthRegistry(breaker);
    const withFallbacks = planRoute(needs({ prefs: { order: ['fireworks', 'groq'] } }), h).order.map((e) => e.provider);
    expect(withFallbacks.slice(0, 2)).toEqual(['fireworks', 'groq']);
    expect(withFallbacks.length).toBe(llama.endpoints.length);
    expect(planRoute(needs({ prefs: { order: ['fireworks', 'groq'], allow_fallbacks: false } }), h).order.map((e) => e.provider)).toEqual(['fireworks', 'groq']);
    expect(planRoute(needs({ prefs: { allow_fallbacks: false } }), h).order).toHaveLength(1);
  });
});
