// The closed loop in embedded mode: analytics computes signals from chDB in-process and hands them straight
// to the router; the status API, routing explanations and metrics show them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import type { RoutePlan } from '../../router/routing/plan.ts';
import { auth, chatBody, eventually, startTestService } from '../helpers/service.ts';

const MODEL = 'meta-llama/llama-3.3-70b-instruct';
let s: Service;
let stop = false;
let load: Promise<void>[] = [];
const outcomes: number[] = [];

beforeAll(async () => {
  s = await startTestService({ SIMULATOR_LATENCY_SCALE: '0.05', RATE_LIMIT_PER_MINUTE: '10000000', SIGNALS_INTERVAL_MS: '500' });
  load = Array.from({ length: 4 }, async () => {
    while (!stop) {
      const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody(MODEL)) });
      outcomes.push(res.status);
      await res.text();
    }
  });
});
afterAll(async () => {
  stop = true;
  await Promise.all(load);
  await s?.close();
});

const statusOf = async (provider: string) => {
  const res = await s.app.inject({ url: `/api/v1/providers/status?model=${encodeURIComponent(MODEL)}&provider=${provider}&history=true` });
  expect(res.statusCode).toBe(200);
  return res.json().endpoints[0];
};

describe('closed loop, embedded', () => {
  it('publishes a fresh signal for every endpoint with traffic, with uptimes, latency and history', async () => {
    const e = await eventually(
      () => statusOf('lambda'),
      (x) => x.signal !== null && x.signal.requests >= 5 && x.signal.uptime_5m !== null && x.history.length >= 2,
      30_000,
    );
    expect(e.stale).toBe(false);
    expect(e.status).toBe('healthy');
    expect(e.signal.ttft_p50_ms).toBeGreaterThan(0);
    expect(e.signal.uptime_5m).toBe(1);
    expect(e.share).toBeGreaterThan(0);
    expect(e.history.at(-1).t).toBe(e.signal.computed_at);
  });

  it('a failing endpoint turns down on the status API, explanations carry the signal, metrics the weights', async () => {
    s.simulator!.faults.set({ provider: 'lambda', model: MODEL, mode: 'error', status: 500 });
    const down = await eventually(
      () => statusOf('lambda'),
      (x) => x.status === 'down',
      30_000,
    );
    expect(down.signal.reason).toMatch(/failed/);
    expect(down.signal.errors_by_class.upstream_5xx).toBeGreaterThan(0);

    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody(MODEL, { switchboard: { explain: true } })) });
    const plan = ((await res.json()) as { routing: { plans: RoutePlan[] } }).routing.plans[0];
    const lambda = plan.candidates.find((c) => c.provider === 'lambda');
    if (lambda) {
      expect(lambda.signal).toMatchObject({ status: 'down' });
      expect(lambda.probability).toBeLessThanOrEqual(0.01 + 1e-9);
    } else {
      expect(plan.excluded.find((c) => c.provider === 'lambda')?.reason).toBe('circuit open');
    }
    const healthy = plan.candidates.find((c) => c.provider !== 'lambda' && c.signal?.status === 'healthy');
    expect(healthy?.signal?.age_ms).toBeLessThan(5000);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_route_weight\{endpoint="[^"]+",model="meta-llama\/llama-3.3-70b-instruct",provider="novita"\} [0-9.e-]+/);
    expect(metrics).toMatch(new RegExp(`switchboard_endpoint_status\\{endpoint="${down.endpoint_id.replace(/[/.]/g, '\\$&')}"\\} 3`));
    expect(metrics).toMatch(/switchboard_signal_ticks_total [1-9]/);

    s.simulator!.faults.clear();
    await eventually(
      () => statusOf('lambda'),
      (x) => x.status === 'recovering' || x.status === 'healthy',
      40_000,
    );
    // Failover hid the fault from clients.
    expect(outcomes.filter((c) => c !== 200)).toEqual([]);
  });

  it('rejects a bad filter with a 400 naming it', async () => {
    const res = await s.app.inject({ url: '/api/v1/providers/status?status=fine' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/status/);
  });
});
