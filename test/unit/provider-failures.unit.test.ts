// One rule for what counts against a provider: the contract's list, the frozen SQL of the per-minute view,
// the router's own classification of a body it cannot serialize, and the body-shape bounds at the edge.
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../store/migrations.ts';
import { loadCatalog } from '../../catalog/catalog.ts';
import { attempt } from '../../router/attempt.ts';
import type { ChatRequest } from '../../router/chat-schema.ts';
import type { UpstreamClient } from '../../router/upstream/client.ts';
import { shapeProblem } from '../../http/body-shape.ts';
import { ERROR_CLASSES, isProviderFailure, measuresThroughput, NOT_ABOUT_PROVIDER, PROVIDER_FAILURES, THROUGHPUT_SAMPLE_SQL } from '../../telemetry/event.ts';

describe('provider failures', () => {
  it('the per-minute view counts exactly the contract list as failures', () => {
    const view = MIGRATIONS.filter((m) => m.statements.some((s) => s.includes('endpoint_minute_mv TO')))
      .sort((a, b) => b.version - a.version)[0]
      .statements.find((s) => s.includes('endpoint_minute_mv TO'))!;
    const list = /countIf\(error_class IN \(([^)]*)\)\) AS failures/.exec(view)?.[1];
    expect(list?.split(',').map((x) => x.trim().replace(/'/g, ''))).toEqual([...PROVIDER_FAILURES]);
  });

  it('the per-minute view measures throughput on the same answers as the contract rule', () => {
    const view = MIGRATIONS.filter((m) => m.statements.some((s) => s.includes('endpoint_minute_mv TO')))
      .sort((a, b) => b.version - a.version)[0]
      .statements.find((s) => s.includes('endpoint_minute_mv TO'))!;
    expect(view).toContain(`sumIf(tokens_completion, ${THROUGHPUT_SAMPLE_SQL}) AS decode_tokens`);
    expect(view).toContain(`sumIf(toFloat64(latency_ms - ttft_ms), ${THROUGHPUT_SAMPLE_SQL}) AS decode_ms`);
    const sample = { streamed: true, latencyMs: 1000, ttftMs: 200, completionTokens: 80 };
    expect(measuresThroughput(sample)).toBe(true);
    expect(measuresThroughput({ ...sample, streamed: false })).toBe(false);
    expect(measuresThroughput({ ...sample, ttftMs: 1000 })).toBe(false);
    expect(measuresThroughput({ ...sample, completionTokens: 0 })).toBe(false);
  });

  it('the per-hour view counts the same failures and samples throughput on the same answers', () => {
    const view = MIGRATIONS.flatMap((m) => m.statements).find((s) => s.includes('endpoint_hour_mv TO'))!;
    const list = /countIf\(error_class IN \(([^)]*)\)\) AS failures/.exec(view)?.[1];
    expect(list?.split(',').map((x) => x.trim().replace(/'/g, ''))).toEqual([...PROVIDER_FAILURES]);
    expect(view.replace(/\s+/g, ' ')).toContain(`${THROUGHPUT_SAMPLE_SQL}) AS throughput`);
  });

  it("neither the router's own outcomes nor the request's are provider failures", () => {
    for (const c of [...NOT_ABOUT_PROVIDER, 'none', 'rate_limited', 'upstream_4xx', 'no_candidates', 'circuit_open'] as const) expect(isProviderFailure(c)).toBe(false);
    for (const c of PROVIDER_FAILURES) expect(ERROR_CLASSES).toContain(c);
  });

  it('a body the router cannot serialize is its own error, and nothing is sent', async () => {
    const endpoint = loadCatalog().model('mistralai/mistral-nemo')!.endpoints[0];
    const req = { model: endpoint.model, messages: [{ role: 'user', content: 'hi' }] } as ChatRequest & { loop?: unknown };
    req.loop = req;
    let sent = 0;
    const upstream = { post: () => (sent++, Promise.reject(new Error('must not be called'))) } as unknown as UpstreamClient;
    const r = await attempt({
      upstream,
      target: { baseUrl: 'http://127.0.0.1:9', apiKey: undefined },
      endpoint,
      req,
      stream: false,
      signal: new AbortController().signal,
      startedAt: performance.now(),
    });
    expect(r).toMatchObject({ ok: false, errorClass: 'router_error', status: 0 });
    expect(sent).toBe(0);
  });
});

describe('body shape', () => {
  it('bounds depth and width, naming the path, without recursing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(shapeProblem({ a: { b: deep } })).toEqual({ path: `a.b${'.0'.repeat(62)}`, message: 'nests deeper than 64 levels' });
    expect(shapeProblem({ xs: Array.from({ length: 10_001 }, () => 0) })).toEqual({ path: 'xs', message: 'has 10001 items; at most 10000 are accepted' });
    expect(shapeProblem({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }], tools: [{ function: { parameters: { a: { b: { c: 1 } } } } }] })).toBeUndefined();
  });
});
