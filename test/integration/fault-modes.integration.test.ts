// Every simulator fault mode, over loopback, through the running service: what the client sees, and what
// the request's record says. Each fault uses its own provider of one model and is lifted after its test: a
// fault left on would catch later tests' random fallbacks, and the embedded signals would then (rightly)
// judge that endpoint down and change how it is used.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import type { Fault } from '../../dev/simulator/faults.ts';
import { auth, chatBody, flushTelemetry, sseData, startTestService } from '../helpers/service.ts';

const MODEL = 'meta-llama/llama-3.3-70b-instruct';
let s: Service;

beforeAll(async () => {
  // Breakers stay closed here (they have their own test), so each fault is seen on every request.
  s = await startTestService({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '400', UPSTREAM_IDLE_TIMEOUT_MS: '400', BREAKER_CONSECUTIVE_FAILURES: '1000', BREAKER_MIN_REQUESTS: '100000' });
});
afterAll(async () => s?.close());
afterEach(() => s.simulator!.faults.clear());

const fault = (f: Fault) => s.simulator!.faults.set({ ...f, model: MODEL });
// Faults mid-stream need an endpoint that no earlier test made fail: the router reads a suspect endpoint's
// stream whole first (from its own memory of a cut, or the fleet's signal judging it from earlier faults),
// so the cut would be failed over unseen instead of ending the stream.
const STREAM_MODEL = 'meta-llama/llama-3.1-8b-instruct';
const streamFault = (f: Fault) => s.simulator!.faults.set({ ...f, model: STREAM_MODEL });

async function chat(body: Record<string, unknown>) {
  const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
  return { res, text: await res.text() };
}

async function generation(id: string) {
  await flushTelemetry(s);
  const res = await fetch(`${s.url}/api/v1/generation?id=${id}`, { headers: auth() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: any }).data;
}

/** Ask for `provider` first, fall back to the rest; expect another provider to answer. */
async function expectFailover(provider: string, errorClass: string, status: number) {
  const { res, text } = await chat(chatBody(MODEL, { provider: { order: [provider] } }));
  expect(res.status, text).toBe(200);
  const body = JSON.parse(text);
  expect(res.headers.get('x-switchboard-provider')).not.toBe(provider);
  const g = await generation(body.id);
  expect(g.fallback_depth).toBe(1);
  expect(g.attempts).toHaveLength(2);
  expect(g.attempts[0]).toMatchObject({ provider, error_class: errorClass, status });
  expect(g.attempts[1]).toMatchObject({ error_class: 'none', status: 200, provider: res.headers.get('x-switchboard-provider') });
  return g;
}

describe('failover before the first byte', () => {
  it('5xx error: the next endpoint answers and both attempts are recorded', async () => {
    fault({ provider: 'groq', mode: 'error', status: 500 });
    await expectFailover('groq', 'upstream_5xx', 500);
  });

  it('503 overload: fails over', async () => {
    fault({ provider: 'together', mode: 'server_error', status: 503 });
    await expectFailover('together', 'upstream_5xx', 503);
  });

  it('connection reset: fails over', async () => {
    fault({ provider: 'fireworks', mode: 'reset' });
    await expectFailover('fireworks', 'connection_error', 0);
  });

  it('hang: the first-byte timeout fires and the request fails over', async () => {
    fault({ provider: 'sambanova', mode: 'hang' });
    const g = await expectFailover('sambanova', 'timeout_first_byte', 0);
    expect(g.attempts[0].latency_ms).toBeGreaterThanOrEqual(350);
  });

  it('malformed JSON: fails over', async () => {
    fault({ provider: 'deepinfra', mode: 'malformed_json' });
    await expectFailover('deepinfra', 'malformed_response', 200);
  });

  it('body cut mid-way: fails over', async () => {
    fault({ provider: 'nebius', mode: 'cut_stream' });
    await expectFailover('nebius', 'stream_cut', 200);
  });

  it('429 with Retry-After: fails over, then the endpoint is left alone for that long', async () => {
    fault({ provider: 'cerebras', mode: 'rate_limit', retryAfterSeconds: 30 });
    await expectFailover('cerebras', 'rate_limited', 429);
    const { res, text } = await chat(chatBody(MODEL, { provider: { order: ['cerebras'] }, switchboard: { explain: true } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchboard-provider')).not.toBe('cerebras');
    const excluded = JSON.parse(text).routing.plans[0].excluded;
    expect(excluded.find((x: { provider: string }) => x.provider === 'cerebras').reason).toMatch(/^rate limited for (29|30) s$/);
    const only = await chat(chatBody(MODEL, { provider: { only: ['cerebras'] } }));
    expect(only.res.status).toBe(429);
    expect(Number(only.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect(JSON.parse(only.text).error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_rate_limited', provider: 'cerebras' });
  });
});

describe('Retry-After within the budget', () => {
  it('when every candidate rate-limits briefly, the router waits as asked and retries', async () => {
    const model = 'x-ai/grok-3-mini'; // one endpoint only
    s.simulator!.faults.set({ provider: 'xai', model, mode: 'rate_limit', retryAfterSeconds: 1 });
    setTimeout(() => s.simulator!.faults.clear('xai'), 400);
    const t0 = performance.now();
    const { res, text } = await chat(chatBody(model));
    expect(res.status, text).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    const g = await generation(JSON.parse(text).id);
    expect(g.attempts.map((a: { error_class: string }) => a.error_class)).toEqual(['rate_limited', 'none']);
  });

  it('a Retry-After longer than the router will wait comes back as 429 with that Retry-After', async () => {
    const model = 'x-ai/grok-4-fast';
    s.simulator!.faults.set({ provider: 'xai', model, mode: 'rate_limit', retryAfterSeconds: 20 });
    const { res, text } = await chat(chatBody(model));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBe(20);
    expect(JSON.parse(text).error).toMatchObject({ code: 'upstream_rate_limited', provider: 'xai' });
    s.simulator!.faults.clear('xai');
  });
});

describe('when no fallback is allowed', () => {
  it('the upstream failure reaches the client as a 502 attributed to the provider', async () => {
    fault({ provider: 'lambda', mode: 'error', status: 500 });
    const { res, text } = await chat(chatBody(MODEL, { provider: { order: ['lambda'], allow_fallbacks: false } }));
    expect(res.status).toBe(502);
    const err = JSON.parse(text).error;
    expect(err).toMatchObject({ type: 'upstream_error', code: 'upstream_failed', provider: 'lambda' });
    expect(err.message).toMatch(/lambda/);
    s.simulator!.faults.clear('lambda');
  });

  it('an upstream 400 is the client’s error: passed back attributed, without trying others', async () => {
    fault({ provider: 'novita', mode: 'error', status: 400 });
    const { res, text } = await chat(chatBody(MODEL, { provider: { order: ['novita'] } }));
    expect(res.status).toBe(400);
    expect(JSON.parse(text).error).toMatchObject({ code: 'upstream_rejected', provider: 'novita' });
    const id = res.headers.get('x-switchboard-generation-id')!;
    const g = await generation(id);
    expect(g.attempts).toHaveLength(1);
    s.simulator!.faults.clear('novita');
  });
});

/** An endpoint's normal latency: the median of five requests, as one alone can be a heavy-tail draw or a
 * pause of the process, several times the usual. */
async function usualLatency(provider: string, stream: boolean): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { text } = await chat(chatBody(MODEL, { stream, provider: { order: [provider], allow_fallbacks: false } }));
    ms.push((await generation(stream ? JSON.parse(sseData(text)[0]).id : JSON.parse(text).id)).latency_ms);
  }
  return ms.sort((a, b) => a - b)[2];
}

describe('streaming', () => {
  it('streams a whole answer as SSE ending in [DONE], with usage and the serving provider', async () => {
    const { res, text } = await chat(chatBody(MODEL, { stream: true, provider: { order: ['lambda'] } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const data = sseData(text);
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toMatch(/^Sure/);
    const usage = chunks[chunks.length - 1].usage;
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toMatch(/stop|length/);
    expect(chunks[0].provider).toBe('Lambda');
  });

  it('a failure before the first token still fails over', async () => {
    fault({ provider: 'groq', mode: 'error', status: 502 });
    const { res, text } = await chat(chatBody(MODEL, { stream: true, provider: { order: ['groq'] } }));
    expect(res.status).toBe(200);
    expect(sseData(text).pop()).toBe('[DONE]');
    expect(res.headers.get('x-switchboard-provider')).not.toBe('groq');
  });

  it('a stream cut mid-way ends with an error chunk (finish_reason "error") and is recorded as a failure', async () => {
    streamFault({ provider: 'together', mode: 'cut_stream' });
    const { res, text } = await chat(chatBody(STREAM_MODEL, { stream: true, max_tokens: 64, provider: { order: ['together'] } }));
    expect(res.status).toBe(200); // the status was sent with the first token
    const data = sseData(text);
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const errorChunk = chunks.find((c) => c.choices[0]?.finish_reason === 'error');
    expect(errorChunk.error).toMatchObject({ type: 'upstream_error', code: 'stream_cut', provider: 'together' });
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(0);
    const g = await generation(chunks[0].id);
    expect(g).toMatchObject({ status: 502, error_class: 'stream_cut', provider: 'together', streamed: true });
  });

  it("after a cut, this router reads that endpoint's streams whole first, so the next cut fails over unseen", async () => {
    streamFault({ provider: 'together', mode: 'cut_stream' });
    const { res, text } = await chat(chatBody(STREAM_MODEL, { stream: true, max_tokens: 64, provider: { order: ['together'] } }));
    expect(res.status).toBe(200);
    const chunks = sseData(text)
      .slice(0, -1)
      .map((d) => JSON.parse(d));
    expect(chunks.find((c) => c.choices[0]?.finish_reason === 'error')).toBeUndefined();
    expect(res.headers.get('x-switchboard-provider')).not.toBe('together');
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(0);
  });

  it('malformed data mid-stream ends the stream with an error chunk', async () => {
    streamFault({ provider: 'deepinfra', mode: 'malformed_json' });
    const { text } = await chat(chatBody(STREAM_MODEL, { stream: true, max_tokens: 64, provider: { order: ['deepinfra'] } }));
    const chunks = sseData(text)
      .slice(0, -1)
      .map((d) => JSON.parse(d));
    expect(chunks.find((c) => c.choices[0]?.finish_reason === 'error').error.code).toBe('malformed_response');
  });

  it('a slow stream completes, only later', async () => {
    s.simulator!.faults.clear('together');
    const quick = await usualLatency('together', true);
    fault({ provider: 'together', mode: 'slow_stream', multiplier: 200 }); // ≈ 18 ms between tokens: slow, but under the idle timeout
    const slow = await chat(chatBody(MODEL, { stream: true, provider: { order: ['together'], allow_fallbacks: false } }));
    expect(sseData(slow.text).pop()).toBe('[DONE]');
    const g = await generation(JSON.parse(sseData(slow.text)[0]).id);
    expect(g.status).toBe(200);
    expect(g.latency_ms).toBeGreaterThan(quick * 5);
  });

  it('a stream that stalls longer than the idle timeout ends with an error chunk (timeout_idle)', async () => {
    fault({ provider: 'novita', mode: 'slow_stream', multiplier: 5000 }); // seconds between tokens
    const { text } = await chat(chatBody(MODEL, { stream: true, provider: { order: ['novita'] } }));
    const chunks = sseData(text)
      .slice(0, -1)
      .map((d) => JSON.parse(d));
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.find((c) => c.choices[0]?.finish_reason === 'error').error).toMatchObject({ code: 'timeout_idle', provider: 'novita' });
    const g = await generation(chunks[0].id);
    expect(g).toMatchObject({ status: 502, error_class: 'timeout_idle' });
    s.simulator!.faults.clear('novita');
  });

  it('10× latency: answered by the same endpoint, ten times slower', async () => {
    s.simulator!.faults.clear();
    const quick = await usualLatency('fireworks', false);
    fault({ provider: 'fireworks', mode: 'latency', multiplier: 50 });
    const slow = await chat(chatBody(MODEL, { provider: { order: ['fireworks'], allow_fallbacks: false } }));
    expect(slow.res.status).toBe(200);
    const g = await generation(JSON.parse(slow.text).id);
    expect(g.latency_ms).toBeGreaterThan(quick * 5);
  });
});
