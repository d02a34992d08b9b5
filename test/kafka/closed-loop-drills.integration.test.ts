// Closed-loop drills: three routers under steady load over a real Kafka broker, an ingest consumer and the
// analytics role computing signals, one shared provider simulator. One fault at a time on the endpoint with
// the largest share of the model; each drill checks that traffic leaves it, that failover hides the fault
// from clients, and that traffic comes back once it ends. Each waits for states, not for the clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog.ts';
import { loadConfig } from '../../core/config.ts';
import { queryRows, dateTime64 } from '../../store/clickhouse.ts';
import type { Fault } from '../../dev/simulator/faults.ts';
import type { RoutePlan } from '../../router/routing/plan.ts';
import { FLEET_KEY, normalShareOf, shareOf, startFleet, SteadyLoad, type Fleet } from '../helpers/fleet.ts';
import { kafkaOrSkip, testPrefix } from '../helpers/kafka.ts';
import { eventually } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const MODEL = 'meta-llama/llama-3.3-70b-instruct';
const WATCH = 'lambda';
const watch = loadCatalog()
  .model(MODEL)!
  .endpoints.find((e) => e.provider === WATCH)!;
const cfg = loadConfig({}).signals;
const INTERVAL_MS = 1000;
const RPS = 40;
// How long the share is measured once every router holds the faulted endpoint.
const HELD_S = 8;
// The most any state is waited for (held everywhere, traffic back, signals stale): generous, because a busy
// 2-core machine sees and forgets faults later; what is asserted is that the state comes, not when.
const STATE_WAIT_MS = 150_000;

let fleet: Fleet;
let normalShare = 0;

const status = async (url: string) => {
  const res = await fetch(`${url}/api/v1/providers/status?model=${encodeURIComponent(MODEL)}&provider=${WATCH}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { endpoints: unknown[] }).endpoints[0] as {
    status: string;
    stale: boolean;
    share: number;
    effect: string;
    signal: { cap_rps: number | null; reason: string } | null;
  };
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
}, 300_000);
afterAll(async () => {
  await fleet?.close();
});

/** Every router shows the endpoint's fleet status and routes around it. */
async function heldEverywhere(expectStatus: string[]): Promise<boolean> {
  for (const r of fleet.routers) {
    const s = await status(r.url);
    if (!expectStatus.includes(s.status) || s.share > cfg.degradedShare + 1e-9) return false;
  }
  return true;
}

/** The routing explanation names the endpoint's signal (or its exclusion) while it is held. */
async function checkExplained(expectStatus: string[]) {
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

/**
 * One fault, judged by states rather than by the clock: the fault stays on until every router holds the
 * endpoint (however long a busy machine takes to see it), the share is then measured over HELD_S while it
 * is still faulted, and after the fault is lifted the drill waits for traffic to return. How long each
 * phase took is printed (bench/drills measures it); the assertions are the outcomes.
 */
async function drill(fault: Fault, stream: boolean, expectStatus: string[]) {
  const load = new SteadyLoad(fleet, { model: MODEL, rps: RPS, stream, maxTokens: 24, watch, intervalMs: INTERVAL_MS });
  load.start();
  const statuses = async () => JSON.stringify(await Promise.all(fleet.routers.map((x) => status(x.url))));
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = Date.now();
    fleet.simulator.faults.set(fault);
    await eventually(
      () => heldEverywhere(expectStatus),
      (held) => held,
      STATE_WAIT_MS,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}; status now: ${await statuses()}`);
    });
    const heldAfterS = (Date.now() - t0) / 1000;
    const heldRow = load.rows.length;
    await new Promise((r) => setTimeout(r, HELD_S * 1000));
    await checkExplained(expectStatus);
    const faultRows = load.rows.slice(heldRow);
    fleet.simulator.faults.clear();
    const t1 = Date.now();
    const endRow = load.rows.length;
    const back = await eventually(
      async () => load.rows.slice(endRow),
      (rows) => rows.some((_, i) => i + 5 <= rows.length && shareOf(rows.slice(i, i + 5)) >= 0.7 * normalShare),
      STATE_WAIT_MS,
    ).catch(async (err) => {
      throw new Error(`share never returned to 70% of ${normalShare}: ${(err as Error).message}; status now: ${await statuses()}`);
    });
    console.log(
      `${fault.mode} on ${WATCH}: held everywhere after ${heldAfterS.toFixed(1)} s, share while held ${(shareOf(faultRows) * 100).toFixed(2)}%, failures ${load.failures.length}/${load.requests}, back after ${((Date.now() - t1) / 1000).toFixed(1)} s (${back.length} intervals)`,
    );
    // Traffic left: while held, the endpoint keeps at most its probe share (plus noise).
    expect(shareOf(faultRows)).toBeLessThanOrEqual(0.05);
  } finally {
    fleet.simulator.faults.clear();
    await load.stop();
  }
  // Failover absorbed it: clients saw (almost) nothing.
  expect(load.failures.length / load.requests, JSON.stringify(load.failures.slice(0, 5))).toBeLessThanOrEqual(0.01);
}

describe.skipIf(!brokers)('closed-loop drills (3 routers, real Kafka, signals from ClickHouse)', () => {
  it(
    'an endpoint failing every request: down, traffic leaves, failover hides it, traffic returns',
    () => drill({ provider: WATCH, model: MODEL, mode: 'error', status: 500 }, false, ['down', 'degraded']),
    400_000,
  );

  it(
    'an endpoint at 10× latency: degraded against its own normal and its peers, traffic leaves and returns',
    () => drill({ provider: WATCH, model: MODEL, mode: 'latency', multiplier: 10 }, false, ['degraded']),
    400_000,
  );

  it(
    'an endpoint answering a 429 storm: degraded, traffic leaves, no client sees a 429, traffic returns',
    () => drill({ provider: WATCH, model: MODEL, mode: 'rate_limit', retryAfterSeconds: 1 }, false, ['degraded']),
    400_000,
  );

  it(
    'an endpoint cutting streams mid-way: suspect streams are read whole so cuts fail over unseen',
    () => drill({ provider: WATCH, model: MODEL, mode: 'cut_stream' }, true, ['down', 'degraded']),
    400_000,
  );

  it('an endpoint with a capacity: the fleet learns a traffic cap below it and keeps using it without a 429 storm', async () => {
    const capacity = 4;
    const load = new SteadyLoad(fleet, { model: MODEL, rps: RPS, stream: false, maxTokens: 24, watch, intervalMs: INTERVAL_MS });
    load.start();
    fleet.simulator.faults.set({ provider: WATCH, model: MODEL, mode: 'rate_limit', retryAfterSeconds: 0, maxRps: capacity });
    // (A cap left from an earlier drill is only ever lowered by new 429s, so this waits for the new one.)
    const learned = await eventually(
      () => status(fleet.analytics.url),
      (s) => s.signal?.cap_rps != null && s.signal.cap_rps <= capacity,
      STATE_WAIT_MS,
    );
    // Then the 15 s that follow, under the cap.
    await new Promise((r) => setTimeout(r, 5_000));
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 15_000));
    fleet.simulator.faults.clear();
    await load.stop();
    const [a] = await queryRows<{ n: string; limited: string }>(
      fleet.analytics.clickhouse!,
      "SELECT count() AS n, countIf(error_class = 'rate_limited') AS limited FROM attempts WHERE endpoint_id = {e:String} AND ts >= {from:DateTime64(3)}",
      { e: watch.id, from: dateTime64(from) },
    );
    const n = Number(a.n);
    const accepted = (n - Number(a.limited)) / 15;
    console.log(
      `capacity ${capacity}/s: cap ${learned.signal!.cap_rps}, over the last 15 s ${accepted.toFixed(2)} accepted/s, ${a.limited}/${n} answered 429; client failures ${load.failures.length}/${load.requests}`,
    );
    // Without the cap, the routers would offer it ~${normalShare * RPS}/s and most would bounce.
    expect(Number(a.limited) / n).toBeLessThan(0.35);
    expect(accepted).toBeGreaterThanOrEqual(capacity * 0.4);
    expect(load.failures.length / load.requests).toBeLessThanOrEqual(0.01);
  }, 400_000);

  it('a stalled analytics role: signals go stale, routers keep routing on their own breakers and statistics', async () => {
    await fleet.analytics.signalComputer!.stop();
    try {
      await eventually(
        () => status(fleet.routers[0].url),
        (s) => s.stale,
        STATE_WAIT_MS,
      );
      for (const r of fleet.routers) expect((await status(r.url)).effect).toMatch(/local knowledge|not routed/);
      const load = new SteadyLoad(fleet, { model: MODEL, rps: RPS, stream: false, maxTokens: 24, watch, intervalMs: INTERVAL_MS });
      load.start();
      await new Promise((r) => setTimeout(r, 3000));
      const startRow = load.rows.length;
      fleet.simulator.faults.set({ provider: WATCH, model: MODEL, mode: 'error', status: 503 });
      // The local breakers react on their own: wait for the share to drop in one interval, then measure ten.
      await eventually(
        async () => load.rows.slice(startRow + 1),
        (rows) => rows.length > 0 && shareOf(rows.slice(-1)) <= 0.05,
        STATE_WAIT_MS,
      );
      const heldRow = load.rows.length;
      await new Promise((r) => setTimeout(r, 10_000));
      fleet.simulator.faults.clear();
      const faultRows = load.rows.slice(heldRow);
      await load.stop();
      console.log(`no signals: share during the fault ${(shareOf(faultRows) * 100).toFixed(2)}%, failures ${load.failures.length}/${load.requests}`);
      // The local breaker and the recent-failure demotion do the job alone.
      expect(shareOf(faultRows)).toBeLessThanOrEqual(0.05);
      expect(load.failures.length / load.requests).toBeLessThanOrEqual(0.01);
      expect(load.requests).toBeGreaterThan(RPS * 12);
    } finally {
      fleet.analytics.signalComputer!.start();
    }
    await eventually(
      () => status(fleet.routers[0].url),
      (s) => !s.stale && s.signal !== null,
      STATE_WAIT_MS,
    );
  }, 400_000);
});
