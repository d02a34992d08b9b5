// OpenRouter's request options read into routing inputs (router/routing/options.ts), and the filters they
// drive in planRoute: provider spellings, the sort object, :free, data policies, required parameters.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog.ts';
import type { ApiError } from '../../core/errors.ts';
import type { ChatRequest } from '../../router/chat-schema.ts';
import { HealthRegistry } from '../../router/health/registry.ts';
import { routingOf } from '../../router/routing/options.ts';
import { planRoute } from '../../router/routing/plan.ts';
import { breaker } from '../helpers/routing.ts';

// One model with a free endpoint beside a paid one, as a configuration file can add.
const catalog = loadCatalog().extend(
  [
    {
      id: 'acme/open-7b',
      endpoints: [
        { provider: 'together', contextLength: 8192, maxCompletionTokens: 2048, pricePrompt: 0, priceCompletion: 0 },
        { provider: 'deepinfra', contextLength: 8192, maxCompletionTokens: 2048, pricePrompt: 0.1, priceCompletion: 0.2 },
      ],
    },
  ],
  [],
);
const ask = (extra: Partial<ChatRequest>): ChatRequest => ({ model: 'meta-llama/llama-3.3-70b-instruct', messages: [{ role: 'user', content: 'hi' }], ...extra });
const rejection = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a rejection');
};
const plan = (req: ChatRequest) => {
  const r = routingOf(catalog, req);
  const m = r.models[0];
  return planRoute(
    { model: m.model, sort: m.sort, free: m.free, prefs: r.prefs, promptTokens: 10, maxTokens: undefined, needsTools: false, needsResponseFormat: false },
    new HealthRegistry(breaker),
    { random: () => 0.5 },
  );
};

describe('request options', () => {
  it('names providers by slug or display name in any case; unknown names match nothing', () => {
    const r = routingOf(catalog, ask({ provider: { only: ['GROQ', 'Together', 'nobody'], ignore: ['Nebius AI Studio'], order: ['cerebras'] } }));
    expect(r.prefs).toMatchObject({ only: ['groq', 'together', 'nobody'], ignore: ['nebius'], order: ['cerebras'] });
  });

  it('takes the sort as a word or as {by, partition}', () => {
    expect(routingOf(catalog, ask({ provider: { sort: 'price' } })).models[0].sort).toBe('price');
    const r = routingOf(catalog, ask({ models: ['deepseek/deepseek-chat'], provider: { sort: { by: 'latency', partition: 'none' } } }));
    expect(r.models.map((m) => m.sort)).toEqual(['latency', 'latency']);
    expect(r.acrossModels).toBe(true);
    expect(routingOf(catalog, ask({ provider: { sort: { by: 'latency' } } })).acrossModels).toBe(false);
  });

  it('serves `models` alone, and refuses a request naming no model', () => {
    expect(routingOf(catalog, { messages: [{ role: 'user', content: 'x' }], models: ['openai/gpt-4o-mini'] }).models[0].model.id).toBe('openai/gpt-4o-mini');
    expect(rejection(() => routingOf(catalog, { messages: [{ role: 'user', content: 'x' }] }))).toMatchObject({ status: 400, code: 'missing_model' });
  });

  it(':free keeps only the endpoints that charge nothing, and is a 404 for a model without one', () => {
    const p = plan(ask({ model: 'acme/open-7b:free' }));
    expect(p.order.map((e) => e.provider)).toEqual(['together']);
    expect(p.excluded).toContainEqual(expect.objectContaining({ provider: 'deepinfra', reason: expect.stringMatching(/not free/) }));
    expect(rejection(() => routingOf(catalog, ask({ model: 'openai/gpt-4o-mini:free' })))).toMatchObject({ status: 404 });
  });

  it('data_collection: deny and zdr exclude by the providers’ declared policies', () => {
    const deny = plan(ask({ model: 'deepseek/deepseek-chat', provider: { data_collection: 'deny' } }));
    expect(deny.excluded.map((x) => x.provider)).toEqual(['deepseek']);
    const zdr = plan(ask({ model: 'deepseek/deepseek-chat', provider: { zdr: true } }));
    for (const e of zdr.order) expect(e.dataPolicy.retainsPrompts).toBe(false);
    expect(zdr.excluded.map((x) => x.provider).sort()).toEqual(['deepseek', 'novita']);
  });

  it('require_parameters lists what the request sets and excludes endpoints lacking any', () => {
    const r = routingOf(catalog, ask({ temperature: 0.3, seed: 7, provider: { require_parameters: true } } as Partial<ChatRequest>));
    expect(r.prefs?.requiredParameters?.sort()).toEqual(['seed', 'temperature']);
    const claude = plan(ask({ model: 'anthropic/claude-sonnet-4.5', seed: 7, provider: { require_parameters: true } } as Partial<ChatRequest>));
    expect(claude.order).toEqual([]);
    expect(claude.excluded[0].reason).toMatch(/does not support seed/);
    // Reasoning is asked of the Messages API's extended thinking; OpenAI-compatible endpoints do not declare it.
    const thinking = plan(ask({ model: 'anthropic/claude-sonnet-4.5', reasoning: { effort: 'low' }, provider: { require_parameters: true } }));
    expect(thinking.excluded).toEqual([]);
    const llama = plan(ask({ reasoning: { effort: 'low' }, provider: { require_parameters: true } }));
    expect(llama.order).toEqual([]);
  });

  it('max_price accepts decimal strings; soft thresholds take a median, and a tail percentile is a clear 400', () => {
    const r = routingOf(catalog, ask({ provider: { max_price: { prompt: '0.5', completion: 1 }, preferred_max_latency: { p50: 2 }, preferred_min_throughput: 100 } }));
    expect(r.prefs).toMatchObject({ max_price: { prompt: 0.5, completion: 1 }, maxLatencyMs: 2000, minThroughput: 100 });
    const slow = plan(ask({ provider: { preferred_min_throughput: 1000 } }));
    expect(slow.order[0].tokensPerSecond).toBeGreaterThanOrEqual(1000); // cerebras, the only one this fast, first
    expect(rejection(() => routingOf(catalog, ask({ provider: { preferred_max_latency: { p90: 3 } } })))).toMatchObject({
      status: 400,
      extra: { param: 'provider.preferred_max_latency' },
    });
  });

  it('transforms other than middle-out are a clear 400', () => {
    expect(rejection(() => routingOf(catalog, ask({ transforms: ['middle-out', 'squash'] })))).toMatchObject({ status: 400, extra: { param: 'transforms' } });
  });
});
