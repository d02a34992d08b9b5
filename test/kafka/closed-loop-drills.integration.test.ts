// Closed-loop drills: three routers under steady load over a real Kafka broker, an ingest consumer and the
// analytics role computing signals, one shared provider simulator. One fault at a time on the endpoint with
// the largest share of the model; each drill checks that traffic leaves it, that failover hides the fault
// from clients, and that traffic comes back once it ends. Bounds follow the configured window and ramp.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog.ts';
import { loadConfig } from '../../core/config.ts';
import { queryRows, dateTime64 } from '../../analytics/clickhouse.ts';
import type { Fault } from '../../simulator/faults.ts';
import type { RoutePlan } from '../../router/routing/plan.ts';
import { FLEET_KEY, normalShareOf, runDrill, shareOf, startFleet, SteadyLoad, type Fleet } from '../helpers/fleet.ts';
import { kafkaOrSkip, testPrefix } from '../helpers/kafka.ts';
import { eventually } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const MODEL = 'meta-llama/llama-3.3-70b-instruct';
const WATCH = 'lambda';
const watch = loadCatalog().model(MODEL)!.endpoints.find((e) => e.provider === WATCH)!;
const cfg = loadConfig({}).signals;
const INTERVAL_MS = 1000;
const RPS = 40;
// A fault lasts long enough for the status window to fill with it, and then some.
const FAULT_S = cfg.windowS + 10;
// Back within: the window to forget the fault, the ramp, and room for a slow 2-core machine.
const BACK_WITHIN_S = cfg.windowS + cfg.recoverS + 20;

let fleet: Fleet;
let normalShare = 0;

const status = async (url: string) => {
  const res = await fetch(`${url}/api/v1/providers/status?model=${encodeURIComponent(MODEL)}&provider=${WATCH}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { endpoints: unknown[] }).endpoints[0] as { status: string; stale: boolean; share: number; effect: string; signal: { cap_rps: number | null; reason: string } | null };
};

beforeAll(async () => {
  if (!brokers) return;
  fleet = await startFleet({ brokers, prefix: testPrefix('drills'), routers: 3, latencyScale: 0.1 });
  // The normal share, measured before any fault (and the signals' learned normals with it), as bench/drills does.
  const warm = new SteadyLoad(fleet, { model: MODEL, rps: RPS, stream: false, maxTokens: 24, watch, intervalMs: INTERVAL_MS });
  warm.start();
  await new Promise((r) => setTimeout(r, 20_000));
  await warm.stop();
  normalShare = normalShareOf(warm);
  console.log(`normal share of ${WATCH}: ${(normalShare * 100).toFixed(1)}%`);
}, 120_000);
afterAll(async () => {
  await fleet?.close();
});

/** Mid-fault, every router shows the endpoint's fleet status and routes around it, and says why. */
async function checkMidFault(expectStatus: string[]) {
  await new Promise((r) => setTimeout(r, (cfg.windowS + 5) * 1000));
  for (const r of fleet.routers) {
    const s = await status(r.url);
    expect(expectStatus, JSON.stringify(s)).toContain(s.status);
    expect(s.share).toBeLessThanOrEqual(cfg.degradedShare + 1e-9);
  }
  const explained = await fetch(`${fleet.routers[0].url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, switchboard: { explain: true } }),
  });
  const plan = ((await explained.json()) as { routing: { plans: RoutePlan[] } }).routing.plans[0];
  const cand = plan.candidates.find((c) => c.provider === WATCH);
  expect(cand ?? plan.excluded.find((c) => c.provider === WATCH), JSON.stringify(plan)).toBeDefined();
  if (cand?.signal) expect(expectStatus).toContain(cand.signal.status);
}

async function drill(fault: Fault, stream: boolean, expectStatus: string[]) {
  const load = new SteadyLoad(fleet, { model: MODEL, rps: RPS, stream, maxTokens: 24, watch, intervalMs: INTERVAL_MS });
  load.start();
  await new Promise((r) => setTimeout(r, 3000));
  const startRow = load.rows.length;
  const running = runDrill(fleet, load, normalShare, { fault, faultS: FAULT_S, recoverWaitS: BACK_WITHIN_S + 10, backAt: 0.7, smoothRows: 5 }, INTERVAL_MS);
  try {
    await checkMidFault(expectStatus);
  } finally {
    // Whatever was asserted, the drill runs to its end (clearing its fault) before the next one starts.
    await running.catch(() => undefined);
    await load.stop();
  }
  const r = await running;
  const faultRows = load.rows.slice(startRow + cfg.windowS, startRow + FAULT_S);
  console.log(`${r.fault}: left after ${r.leftAfterS} s, share after the window ${(shareOf(faultRows) * 100).toFixed(2)}%, failures ${r.failures}/${r.requests}, back after ${r.backAfterS} s`);
  // Traffic left: once the window has seen the fault, the endpoint keeps at most its probe share (plus noise).
  expect(shareOf(faultRows)).toBeLessThanOrEqual(0.05);
  // Failover absorbed it: clients saw (almost) nothing.
  expect(r.failures / r.requests, JSON.stringify(load.failures.slice(0, 5))).toBeLessThanOrEqual(0.01);
  // And traffic came back by itself.
  const statuses = async () => JSON.stringify(await Promise.all(fleet.routers.map((x) => status(x.url))));
  if (r.backAfterS === null || r.backAfterS > BACK_WITHIN_S) console.log(`${r.fault}: shares after the fault (%): ${r.sharesAfter.join(' ')}; status now: ${await statuses()}`);
  expect(r.backAfterS, `share never returned to 70% of ${normalShare}`).not.toBeNull();
  expect(r.backAfterS!).toBeLessThanOrEqual(BACK_WITHIN_S);
}

describe.skipIf(!brokers)('closed-loop drills (3 routers, real Kafka, signals from ClickHouse)', () => {
  it('an endpoint failing every request: down, traffic leaves, failover hides it, traffic returns', () => drill({ provider: WATCH, model: MODEL, mode: 'error', status: 500 }, false, ['down', 'degraded']), 180_000);

  it('an endpoint at 10× latency: degraded against its own normal and its peers, traffic leaves and returns', () => drill({ provider: WATCH, model: MODEL, mode: 'latency', multiplier: 10 }, false, ['degraded']), 180_000);

  it('an endpoint answering a 429 storm: degraded, traffic leaves, no client sees a 429, traffic returns', () => drill({ provider: WATCH, model: MODEL, mode: 'rate_limit', retryAfterSeconds: 1 }, false, ['degraded']), 180_000);

  it('an endpoint cutting streams mid-way: suspect streams are read whole so cuts fail over unseen', () => drill({ provider: WATCH, model: MODEL, mode: 'cut_stream' }, true, ['down', 'degraded']), 180_000);

  it('an endpoint with a capacity: the fleet learns a traffic cap below it and keeps using it without a 429 storm', async () => {
    const capacity = 4;
    const load = new SteadyLoad(fleet, { model: MODEL, rps: RPS, stream: false, maxTokens: 24, watch, intervalMs: INTERVAL_MS });
    load.start();
    fleet.simulator.faults.set({ provider: WATCH, model: MODEL, mode: 'rate_limit', retryAfterSeconds: 0, maxRps: capacity });
    const t0 = Date.now();
    // (A cap left from an earlier drill is only ever lowered by new 429s, so this waits for the new one.)
    const learned = await eventually(() => status(fleet.analytics.url), (s) => s.signal?.cap_rps != null && s.signal.cap_rps <= capacity, 30_000);
    await new Promise((r) => setTimeout(r, Math.max(0, 35_000 - (Date.now() - t0))));
    const from = Date.now() - 15_000;
    fleet.simulator.faults.clear();
    await load.stop();
    const [a] = await queryRows<{ n: string; limited: string }>(
      fleet.analytics.clickhouse!,
      "SELECT count() AS n, countIf(error_class = 'rate_limited') AS limited FROM attempts WHERE endpoint_id = {e:String} AND ts >= {from:DateTime64(3)}",
      { e: watch.id, from: dateTime64(from) },
    );
    const n = Number(a.n);
    const accepted = (n - Number(a.limited)) / 15;
    console.log(`capacity ${capacity}/s: cap ${learned.signal!.cap_rps}, over the last 15 s ${accepted.toFixed(2)} accepted/s, ${a.limited}/${n} answered 429; client failures ${load.failures.length}/${load.requests}`);
    // Without the cap, the routers would offer it ~${normalShare * RPS}/s and most would bounce.
    expect(Number(a.limited) / n).toBeLessThan(0.35);
    expect(accepted).toBeGreaterThanOrEqual(capacity * 0.4);
    expect(load.failures.length / load.requests).toBeLessThanOrEqual(0.01);
  }, 180_000);

  it('a stalled analytics role: signals go stale, routers keep routing on their own breakers and statistics', async () => {
    await fleet.analytics.signalComputer!.stop();
    try {
      await eventually(() => status(fleet.routers[0].url), (s) => s.stale, cfg.maxAgeMs + 10_000);
      for (const r of fleet.routers) expect((await status(r.url)).effect).toMatch(/local knowledge|not routed/);
      const load = new SteadyLoad(fleet, { model: MODEL, rps: RPS, stream: false, maxTokens: 24, watch, intervalMs: INTERVAL_MS });
      load.start();
      await new Promise((r) => setTimeout(r, 3000));
      const startRow = load.rows.length;
      fleet.simulator.faults.set({ provider: WATCH, model: MODEL, mode: 'error', status: 503 });
      await new Promise((r) => setTimeout(r, 12_000));
      fleet.simulator.faults.clear();
      const faultRows = load.rows.slice(startRow + 2, startRow + 12);
      await load.stop();
      console.log(`no signals: share during the fault ${(shareOf(faultRows) * 100).toFixed(2)}%, failures ${load.failures.length}/${load.requests}`);
      // The local breaker and the recent-failure demotion do the job alone.
      expect(shareOf(faultRows)).toBeLessThanOrEqual(0.05);
      expect(load.failures.length / load.requests).toBeLessThanOrEqual(0.01);
      expect(load.requests).toBeGreaterThan(RPS * 12);
    } finally {
      fleet.analytics.signalComputer!.start();
    }
    await eventually(() => status(fleet.routers[0].url), (s) => !s.stale && s.signal !== null, cfg.maxAgeMs + 10_000);
  }, 180_000);
});
