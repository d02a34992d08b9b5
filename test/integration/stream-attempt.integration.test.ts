// One streaming attempt against the simulator over loopback: whether a stream is read whole (so that a cut
// can still fail over) is decided when its first token arrives, not when the request was sent, so a
// stream to an endpoint that turned suspect while it waited is not forwarded into a cut.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, type Endpoint } from '../../catalog/catalog.ts';
import { loadConfig } from '../../core/config.ts';
import { attempt, type AttemptResult } from '../../router/attempt.ts';
import type { ChatRequest } from '../../router/chat-schema.ts';
import { UpstreamClient } from '../../router/upstream/client.ts';
import { startSimulator, type Simulator } from '../../dev/simulator/server.ts';

const catalog = loadCatalog();
const e = catalog.endpoint('lambda:meta-llama/llama-3.3-70b-instruct') as Endpoint;
const req: ChatRequest = { model: e.model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 8, stream: true };
let sim: Simulator;
let upstream: UpstreamClient;

beforeAll(async () => {
  // Real latency: this endpoint's first token takes hundreds of milliseconds, time to change our mind in.
  sim = await startSimulator({ catalog, latencyScale: 1 });
  upstream = new UpstreamClient(loadConfig({}).router);
  sim.faults.set({ provider: e.provider, model: e.model, mode: 'cut_stream' });
});
afterAll(async () => {
  await upstream?.close();
  await sim?.close();
});

/** One attempt; `suspectAfterMs` turns the endpoint suspect that long after the request is sent. */
async function run(suspectAfterMs: number | undefined): Promise<{ result: AttemptResult; askedAfterMs: number[] }> {
  const t0 = performance.now();
  let suspect = false;
  const timer = suspectAfterMs === undefined ? undefined : setTimeout(() => (suspect = true), suspectAfterMs);
  const askedAfterMs: number[] = [];
  const readWhole = () => {
    askedAfterMs.push(performance.now() - t0);
    return suspect;
  };
  const result = await attempt({
    upstream,
    target: { baseUrl: `${sim.url}/${e.provider}`, apiKey: undefined },
    endpoint: e,
    req,
    stream: true,
    signal: new AbortController().signal,
    startedAt: t0,
    readWhole,
  });
  clearTimeout(timer);
  return { result, askedAfterMs };
}

describe('a streaming attempt to an endpoint that cuts its streams', () => {
  it('returns at the first token while the endpoint is trusted: the cut comes later, past failover', async () => {
    const { result, askedAfterMs } = await run(undefined);
    expect(result).toMatchObject({ ok: true, kind: 'stream' });
    expect(askedAfterMs).toHaveLength(1);
    if (result.ok && result.kind === 'stream')
      await expect(async () => {
        for await (const _ of result.rest);
      }).rejects.toThrow();
  });

  it('reads the stream whole when the endpoint turned suspect before its first token, so the cut is a failure to fail over', async () => {
    const { result, askedAfterMs } = await run(20);
    expect(askedAfterMs).toHaveLength(1);
    expect(askedAfterMs[0]).toBeGreaterThan(20); // asked at the first token, after the change
    expect(result).toMatchObject({ ok: false, errorClass: 'stream_cut' });
  });
});
