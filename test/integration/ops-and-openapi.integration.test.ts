// Health, readiness, metrics, the generated OpenAPI document, the catalog, and the circuit breaker as a
// client sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, startTestService } from '../helpers/service.ts';

let s: Service;
beforeAll(async () => {
  s = await startTestService({ BREAKER_CONSECUTIVE_FAILURES: '3', BREAKER_COOLDOWN_MS: '400' });
});
afterAll(async () => s?.close());

describe('operations', () => {
  it('healthz and readyz answer', async () => {
    expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${s.url}/readyz`)).json()).toEqual({ status: 'ready' });
  });

  it('metrics are Prometheus text with the router, upstream, breaker and telemetry series', async () => {
    await (await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('openai/gpt-4o-mini')) })).text();
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    for (const name of [
      'switchboard_http_requests_total',
      'switchboard_chat_request_duration_seconds_bucket',
      'switchboard_upstream_attempts_total',
      'switchboard_upstream_ttft_seconds',
      'switchboard_breaker_state',
      'switchboard_telemetry_queue_depth',
      'switchboard_telemetry_dropped_total',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('openapi.json is generated from the route schemas and covers every route with request and response schemas', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, any>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/v1/chat/completions',
      '/v1/models',
      '/api/v1/chat/completions',
      '/api/v1/completions',
      '/api/v1/models',
      '/api/v1/models/{author}/{slug}/endpoints',
      '/api/v1/providers',
      '/api/v1/credits',
      '/api/v1/auth/key',
      '/api/v1/activity',
      '/api/v1/generation',
      '/api/v1/usage',
      '/api/v1/key',
      '/api/v1/rankings',
      '/api/v1/models/{author}/{slug}/stats',
      '/healthz',
      '/readyz',
      '/metrics',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    const chat = doc.paths['/api/v1/chat/completions'].post;
    // `model` may be left out when `models` names them (OpenRouter's fallbacks).
    expect(chat.requestBody.content['application/json'].schema.required).toEqual(['messages']);
    expect(Object.keys(chat.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '402', '404', '413', '429', '502', '503']));
    expect(doc.paths['/api/v1/generation'].get.parameters[0]).toMatchObject({ name: 'id', in: 'query' });
    expect((await fetch(`${s.url}/docs`, { redirect: 'follow' })).status).toBe(200);
  });

  it('unknown routes answer 404 in the OpenAI error shape', async () => {
    const res = await fetch(`${s.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'not_found_error', code: 'route_not_found' } });
  });
});

describe('catalog', () => {
  it('lists at least 40 models from 12 authors over 15 providers, with prices, context and live stats', async () => {
    const body = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: any[]; prices_compiled_on: string };
    expect(body.data.length).toBeGreaterThanOrEqual(40);
    expect(new Set(body.data.map((m) => m.owned_by)).size).toBeGreaterThanOrEqual(12);
    expect(new Set(body.data.flatMap((m) => m.endpoints.map((e: any) => e.provider))).size).toBeGreaterThanOrEqual(15);
    const popular = body.data.filter((m) => m.endpoints.length >= 3);
    expect(popular.length).toBeGreaterThanOrEqual(10);
    // Real list prices: Claude costs the same on every host, most open-weight models do not.
    const priced = popular.filter((m) => new Set(m.endpoints.map((e: any) => `${e.pricing.prompt}/${e.pricing.completion}`)).size > 1);
    expect(priced.length).toBeGreaterThanOrEqual(15);
    for (const m of popular) {
      const variants = new Set(m.endpoints.map((e: any) => `${e.pricing.prompt}/${e.pricing.completion}/${e.context_length}`));
      const speeds = new Set(s.catalog.model(m.id)!.endpoints.map((e) => `${e.ttftMs}/${e.tokensPerSecond}`));
      expect(variants.size + speeds.size, m.id).toBeGreaterThan(2);
    }
    const mini = body.data.find((m) => m.id === 'openai/gpt-4o-mini');
    expect(mini.endpoints[0].stats).toHaveProperty('breaker', 'closed');
    // OpenRouter's fields and units: prices in USD per token as decimal strings ($0.15 per million: "0.00000015").
    const cheapest = s.catalog.model('openai/gpt-4o-mini')!.endpoints.reduce((a, b) => (b.pricePrompt + b.priceCompletion < a.pricePrompt + a.priceCompletion ? b : a));
    expect(Number(mini.pricing.prompt) * 1e6).toBeCloseTo(cheapest.pricePrompt, 9);
    expect(mini.pricing.prompt).toMatch(/^0\.\d+$/);
    expect(mini).toMatchObject({
      canonical_slug: 'openai/gpt-4o-mini',
      architecture: { input_modalities: ['text'], output_modalities: ['text'], tokenizer: 'GPT' },
      top_provider: { context_length: expect.any(Number), max_completion_tokens: expect.any(Number) },
      per_request_limits: null,
    });
    expect(mini.supported_parameters).toEqual(expect.arrayContaining(['tools', 'response_format', 'max_tokens']));
    expect(typeof mini.created).toBe('number');
    expect(body.data.some((m) => m.endpoints.some((e: any) => e.stats.requests_5m > 0 && e.stats.latency_p50_ms !== null))).toBe(true);
    expect(body.prices_compiled_on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('circuit breaker, seen from outside', () => {
  it('opens after consecutive failures so traffic skips the endpoint, then closes after a good probe', async () => {
    const model = 'meta-llama/llama-3.1-8b-instruct';
    s.simulator!.faults.set({ provider: 'groq', model, mode: 'error', status: 500 });
    const send = async () => {
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: auth(),
        body: JSON.stringify(chatBody(model, { provider: { order: ['groq'] }, switchboard: { explain: true } })),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { routing: { plans: { excluded: { provider: string; reason: string }[] }[] }; provider: string };
    };
    for (let i = 0; i < 3; i++) await send();
    const skipped = await send();
    expect(skipped.routing.plans[0].excluded).toContainEqual(expect.objectContaining({ provider: 'groq', reason: 'circuit open' }));
    const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: any[] };
    expect(models.data.find((m) => m.id === model).endpoints.find((e: any) => e.provider === 'groq').stats.breaker).toBe('open');

    s.simulator!.faults.clear();
    await new Promise((r) => setTimeout(r, 450)); // cooldown: the next request is the probe
    const probe = await send();
    expect(probe.provider).toBe('Groq');
    const after = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: any[] };
    expect(after.data.find((m) => m.id === model).endpoints.find((e: any) => e.provider === 'groq').stats.breaker).toBe('closed');
  });
});
