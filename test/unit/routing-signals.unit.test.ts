import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/random.ts';
import { AttemptRate } from '../../router/health/attempt-rate.ts';
import { breaker, llama, needs } from '../helpers/routing.ts';
import { HealthRegistry } from '../../router/health/registry.ts';
import { SignalTable } from '../../router/health/signals.ts';
import { PendingAttempts, SLOW_HOLD_MS } from '../../router/health/pending.ts';
import { localCapRps, planRoute } from '../../router/routing/plan.ts';
import { SIGNAL_VERSION, decodeSignal, type EndpointSignal } from '../../telemetry/signal.ts';

const policy = { maxAgeMs: 10_000, probeShare: 0.01, degradedShare: 0.02, recoverMs: 15_000, minRequests: 5 };
const T = 1_700_000_000_000;
const endpointOf = (provider: string) => llama.endpoints.find((e) => e.provider === provider)!;

const signal = (provider: string, over: Partial<EndpointSignal> = {}): EndpointSignal => ({
  v: SIGNAL_VERSION,
  endpoint_id: endpointOf(provider).id,
  provider,
  model: llama.id,
  computed_at: T,
  status: 'healthy',
  status_since: T - 60_000,
  reason: 'test',
  window_s: 10,
  requests: 50,
  attempts_per_second: 10,
  error_rate: 0,
  rate_limited_rate: 0,
  errors_by_class: {},
  latency_p50_ms: 400,
  latency_p95_ms: 500,
  ttft_p50_ms: 200,
  ttft_p95_ms: 300,
  tokens_per_second: 80,
  uptime_5m: 1,
  uptime_30m: 1,
  uptime_1d: 1,
  baseline_ttft_p50_ms: 200,
  peer_ttft_p50_ms: 210,
  cap_rps: null,
  ...over,
});
const prob = (plan: ReturnType<typeof planRoute>, provider: string) => plan.candidates.find((c) => c.provider === provider)!.probability;

describe('routing with fleet signals', () => {
  it('a down endpoint keeps exactly its probe share of first choices, a degraded one its degraded share', () => {
    const table = new SignalTable(policy);
    table.update([signal('lambda', { status: 'down' }), signal('deepinfra', { status: 'degraded' })], T);
    const plan = planRoute(needs(), new HealthRegistry(breaker), { now: T, signals: table });
    expect(prob(plan, 'lambda')).toBeCloseTo(0.01, 9);
    expect(prob(plan, 'deepinfra')).toBeCloseTo(0.02, 9);
    expect(plan.candidates.reduce((s, c) => s + c.probability, 0)).toBeCloseTo(1, 9);
    const lambda = plan.candidates.find((c) => c.provider === 'lambda')!;
    expect(lambda.signal).toMatchObject({ status: 'down', age_ms: 0 });
    expect(lambda.signal!.effect).toMatch(/held at 1%/);
  });

  it('the others keep their relative weights', () => {
    const plain = planRoute(needs(), new HealthRegistry(breaker), { now: T });
    const table = new SignalTable(policy);
    table.update([signal('lambda', { status: 'down' })], T);
    const steered = planRoute(needs(), new HealthRegistry(breaker), { now: T, signals: table });
    const ratio = (p: ReturnType<typeof planRoute>) => prob(p, 'groq') / prob(p, 'novita');
    expect(ratio(steered)).toBeCloseTo(ratio(plain), 9);
  });

  it('a recovering endpoint ramps from the degraded share back to its full weight over recoverMs', () => {
    const plain = planRoute(needs(), new HealthRegistry(breaker), { now: T });
    const at = (ms: number) => {
      const table = new SignalTable(policy);
      table.update([signal('lambda', { status: 'recovering', status_since: T, computed_at: T + ms })], T + ms);
      return prob(planRoute(needs(), new HealthRegistry(breaker), { now: T + ms, signals: table }), 'lambda');
    };
    expect(at(0)).toBeCloseTo(0.02, 2);
    expect(at(7_500)).toBeGreaterThan(0.02);
    expect(at(7_500)).toBeLessThan(prob(plain, 'lambda'));
    expect(at(15_000)).toBeCloseTo(prob(plain, 'lambda'), 9);
  });

  it('ignores a stale signal and falls back to local knowledge (the recent-failure demotion)', () => {
    const table = new SignalTable(policy);
    table.update([signal('lambda', { status: 'down' })], T);
    const health = new HealthRegistry(breaker);
    health.get(endpointOf('groq')).stats.record('failure', T + 10_500);
    const plan = planRoute(needs(), health, { now: T + 10_001, signals: table });
    expect(plan.candidates.find((c) => c.provider === 'lambda')!.signal).toBeNull();
    expect(prob(plan, 'lambda')).toBeGreaterThan(0.1);
    expect(plan.candidates.find((c) => c.provider === 'groq')!.recent_failure).toBe(true);
  });

  it('a fresh "healthy" replaces the local demotion only when it judged enough attempts after the failure', () => {
    const health = new HealthRegistry(breaker);
    health.get(endpointOf('groq')).stats.record('failure', T);
    const recent = (sig: Partial<EndpointSignal>) => {
      const table = new SignalTable(policy);
      table.update([signal('groq', { computed_at: T + 1_000, ...sig })], T + 1_000);
      return planRoute(needs(), health, { now: T + 1_500, signals: table }).candidates.find((c) => c.provider === 'groq')!.recent_failure;
    };
    expect(recent({})).toBe(false);
    expect(recent({ requests: 4 })).toBe(true); // healthy for want of data
    expect(recent({ computed_at: T - 100 })).toBe(true); // judged before the failure
    // An unhealthy or recovering verdict steers the endpoint itself (probe share, ramp), whatever its data.
    expect(recent({ requests: 2, status: 'recovering', status_since: T })).toBe(false);
    expect(recent({ computed_at: T - 100, status: 'down' })).toBe(false);
  });

  it('explicit sorts put held endpoints last', () => {
    const table = new SignalTable(policy);
    table.update([signal('lambda', { status: 'down' })], T);
    const plan = planRoute(needs({ sort: 'price' }), new HealthRegistry(breaker), { now: T, signals: table });
    expect(plan.order[0].provider).not.toBe('lambda'); // cheapest, but down
    expect(plan.order.at(-1)!.provider).toBe('lambda');
  });

  it('every candidate held: steering is pointless, the plain weights stand', () => {
    const table = new SignalTable(policy);
    table.update(
      llama.endpoints.map((e) => signal(e.provider, { status: 'down' })),
      T,
    );
    const plain = planRoute(needs(), new HealthRegistry(breaker), { now: T });
    const plan = planRoute(needs(), new HealthRegistry(breaker), { now: T, signals: table });
    expect(prob(plan, 'lambda')).toBeCloseTo(prob(plain, 'lambda'), 9);
  });

  it('an endpoint at its share of the learned cap is paced: on average its part, never two within half a spacing, gaps made up', () => {
    const table = new SignalTable(policy);
    table.update([signal('lambda', { cap_rps: 6, attempts_per_second: 6 })], T);
    const health = new HealthRegistry(breaker);
    const rate = health.get(endpointOf('lambda')).rate;
    const excluded = (now: number) => planRoute(needs(), health, { now, signals: table }).excluded.find((x) => x.provider === 'lambda')?.reason;
    // This router sent half the fleet's attempts: its part of the cap is 3 per second, one per 333 ms.
    for (let i = 0; i < 30; i++) rate.note(T - 10_000 + i * 333);
    expect(localCapRps(table.fresh(endpointOf('lambda').id, T)!, 3)).toBeCloseTo(3, 9);
    // Requests that would pick it arrive at random (every 50–450 ms); each consults the plan first.
    const random = seededRandom(11);
    const sent: number[] = [];
    for (let t = T; t < T + 5_000; t += 50 + Math.floor(random() * 400)) {
      const reason = excluded(t);
      if (reason === undefined) {
        sent.push(t);
        rate.note(t);
      } else expect(reason).toMatch(/at its learned traffic cap \(\d\.\d of 6\.0/);
    }
    for (let i = 1; i < sent.length; i++) expect(sent[i] - sent[i - 1]).toBeGreaterThanOrEqual(1000 / 3 / 2 - 1);
    for (let i = 3; i < sent.length; i++) expect(sent[i] - sent[i - 3]).toBeGreaterThanOrEqual(2 * (1000 / 3) - 1000 / 3 / 2 - 1);
    // About its part of the cap (3/s over 5 s): spacing from the last attempt alone made ~10 of these arrivals.
    expect(sent.length).toBeGreaterThanOrEqual(13);
    expect(sent.length).toBeLessThanOrEqual(16);
  });

  it('attempts made while no cap applied do not hold the endpoint back once a cap applies again', () => {
    const rate = new AttemptRate();
    expect(rate.atCap(T, 1)).toBe(false); // a cap of 1/s: spacing 1 s
    // The cap goes away (the signal's cap cleared) and a hundred attempts go out in one second.
    for (let i = 0; i < 100; i++) rate.note(T + i * 10);
    expect(rate.atCap(T + 1_000, 1)).toBe(true); // still paced right after them
    expect(rate.atCap(T + 2_000, 1)).toBe(false); // but not for a hundred seconds
  });

  it('a fractional share of the cap holds, paced, not rounded up to one every second', () => {
    const table = new SignalTable(policy);
    const health = new HealthRegistry(breaker);
    const rate = health.get(endpointOf('lambda')).rate;
    // Other routers send nearly all of the fleet's 30 attempts/s: this one's part is the floor, 10% of a cap of 6.
    let sent = 0;
    for (let t = T; t < T + 30_000; t += 100) {
      if (t % 1000 === 0) table.update([signal('lambda', { cap_rps: 6, attempts_per_second: 30, computed_at: t })], t);
      if (!planRoute(needs(), health, { now: t, signals: table }).excluded.some((x) => x.provider === 'lambda')) {
        rate.note(t);
        if (t >= T + 20_000) sent++;
      }
    }
    expect(localCapRps(table.fresh(endpointOf('lambda').id, T + 29_900)!, sent / 10)).toBeCloseTo(0.6, 9);
    // 0.6/s over the last 10 s: 6 attempts, evenly paced, where one per second would be 10.
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(sent).toBeLessThanOrEqual(6);
  });
});

describe('slowness this router sees before the fleet does', () => {
  it('two attempts waiting over 3× their usual time hold the endpoint at the degraded share, even under a "healthy" signal', () => {
    const table = new SignalTable(policy);
    table.update([signal('lambda')], T);
    const health = new HealthRegistry(breaker, 3);
    const pending = health.get(endpointOf('lambda')).pending;
    const first = pending.begin(T, 1000);
    const second = pending.begin(T + 500, 1000);
    // One overdue attempt is a tail, not a slowdown.
    expect(prob(planRoute(needs(), health, { now: T + 3200, signals: table }), 'lambda')).toBeGreaterThan(0.1);
    const plan = planRoute(needs(), health, { now: T + 3600, signals: table });
    expect(prob(plan, 'lambda')).toBeCloseTo(0.02, 9);
    const lambda = plan.candidates.find((c) => c.provider === 'lambda')!;
    expect(lambda.local_slow).toMatch(/2 attempts here waited over 3× their usual time/);
    expect(lambda.signal!.effect).toMatch(/held at 2% of first choices: 2 attempts/);
    // The hold outlives the attempts (the signal needs time to see them end), then lapses.
    first();
    second();
    expect(prob(planRoute(needs(), health, { now: T + 8_000, signals: table }), 'lambda')).toBeCloseTo(0.02, 9);
    expect(planRoute(needs(), health, { now: T + 3600 + SLOW_HOLD_MS, signals: table }).candidates.find((c) => c.provider === 'lambda')!.local_slow).toBeNull();
  });

  it('without signals the slow endpoint goes last, like one that failed', () => {
    const health = new HealthRegistry(breaker, 3);
    const pending = health.get(endpointOf('lambda')).pending;
    pending.begin(T, 1000);
    pending.begin(T, 1000);
    const plan = planRoute(needs({ prefs: undefined }), health, { now: T + 4000, random: () => 0 });
    expect(plan.order.at(-1)!.provider).toBe('lambda');
    expect(prob(plan, 'lambda')).toBe(0);
  });

  it('the hold ends SLOW_HOLD_MS after the last time attempts were overdue', () => {
    const p = new PendingAttempts(3);
    const done = [p.begin(T, 1000), p.begin(T, 1000)];
    expect(p.slow(T + 2999)).toBeUndefined();
    expect(p.slow(T + 3001)).toBeDefined();
    for (const d of done) d();
    expect(p.size).toBe(0);
    expect(p.slow(T + 3001 + SLOW_HOLD_MS - 1)).toBeDefined();
    expect(p.slow(T + 3001 + SLOW_HOLD_MS)).toBeUndefined();
  });

  it("never calls a wait overdue within 3× 250 ms: shorter expected waits are the router's own jitter", () => {
    const p = new PendingAttempts(3);
    p.begin(T, 10);
    p.begin(T, 10);
    expect(p.slow(T + 700)).toBeUndefined();
    expect(p.slow(T + 751)).toBeDefined();
  });

  it('counts overdue attempts whatever order their due times come in, and forgets ended ones', () => {
    const p = new PendingAttempts(1);
    const late = p.begin(T, 5000);
    const early = p.begin(T, 1000);
    const ended = p.begin(T, 3000);
    ended();
    expect(p.size).toBe(2);
    expect(p.slow(T + 2000)).toBeUndefined(); // one overdue
    expect(p.slow(T + 4000)).toBeUndefined(); // the ended one does not count
    expect(p.slow(T + 6000)).toMatch(/^2 attempts/);
    early();
    late();
    expect(p.size).toBe(0);
    for (let i = 0; i < 1000; i++) p.begin(T + 6000, (i * 7919) % 3000)(); // ended at once: never overdue
    expect(p.slow(T + 9_000)).toBeDefined(); // still the earlier hold
    expect(p.slow(T + 6000 + SLOW_HOLD_MS)).toBeUndefined();
  });

  it('while held, one overdue probe keeps the hold going', () => {
    const p = new PendingAttempts(3);
    const done = [p.begin(T, 1000), p.begin(T, 1000)];
    expect(p.slow(T + 3001)).toBeDefined();
    for (const d of done) d();
    p.begin(T + 5_000, 1000); // a probe, slow as well
    expect(p.slow(T + 8_001)).toBeDefined();
    expect(p.slow(T + 3001 + SLOW_HOLD_MS)).toBeDefined();
    expect(p.slow(T + 8_001 + SLOW_HOLD_MS)).toBeDefined(); // still overdue: still held
    const q = new PendingAttempts(3);
    q.begin(T, 1000);
    expect(q.slow(T + 3001)).toBeUndefined(); // one overdue alone starts nothing
  });

  it('a busy endpoint is not called slow for two tails among many waiting attempts', () => {
    const p = new PendingAttempts(3);
    p.begin(T, 1000);
    p.begin(T, 1000);
    const fresh = [p.begin(T + 3000, 1000), p.begin(T + 3000, 1000), p.begin(T + 3000, 1000)];
    expect(p.slow(T + 3001)).toBeUndefined();
    fresh[0]();
    fresh[1]();
    expect(p.slow(T + 3002)).toMatch(/2 attempts/);
  });
});

describe('signal table and contract', () => {
  it('never lets an older signal replace a newer one', () => {
    const table = new SignalTable(policy);
    table.update([signal('lambda', { computed_at: T, status: 'down' })], T);
    table.update([signal('lambda', { computed_at: T - 1, status: 'healthy' })], T);
    expect(table.latest(endpointOf('lambda').id)!.status).toBe('down');
    expect(table.history(endpointOf('lambda').id)).toHaveLength(1);
  });

  it('decodes valid signals and names what is wrong with the rest', () => {
    expect(decodeSignal(Buffer.from(JSON.stringify(signal('lambda'))))).toMatchObject({ ok: true });
    expect(decodeSignal(Buffer.from('{'))).toEqual({ ok: false, reason: 'not JSON' });
    const bad = decodeSignal(Buffer.from(JSON.stringify({ ...signal('lambda'), status: 'fine' })));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/status/);
    expect(decodeSignal(null)).toEqual({ ok: false, reason: 'tombstone' });
  });
});
