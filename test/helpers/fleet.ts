// A cluster on loopback for closed-loop drills: one shared provider simulator, N routers, an ingest
// consumer and an analytics role over a real Kafka broker, with a steady open-loop load and a per-interval
// record of where the model's traffic arrived (the simulator's own counts) and what clients saw.
// Used by test/kafka/closed-loop-drills.integration.test.ts and bench/drills (no vitest imports here).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadCatalog, type Endpoint } from '../../catalog/catalog.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { startService, type Service } from '../../service/server.ts';
import { startSimulator, type Simulator } from '../../dev/simulator/server.ts';
import type { Fault } from '../../dev/simulator/faults.ts';

export const FLEET_KEY = 'fleet-dev-key-0123456789abcdef';

export interface Fleet {
  simulator: Simulator;
  routers: Service[];
  ingest: Service;
  analytics: Service;
  close(): Promise<void>;
}

export interface FleetOptions {
  brokers: string;
  prefix: string;
  routers: number;
  latencyScale: number;
  env?: Record<string, string>;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const simulator = await startSimulator({ catalog: loadCatalog(), host: '127.0.0.1', port: 0, latencyScale: o.latencyScale });
  const env = {
    HOST: '127.0.0.1',
    PORT: '0',
    SWITCHBOARD_DEV_KEY: FLEET_KEY,
    LOG_LEVEL: 'silent',
    DEMO: 'off',
    RATE_LIMIT_PER_MINUTE: '10000000',
    KAFKA_BROKERS: o.brokers,
    KAFKA_TOPIC_PREFIX: o.prefix,
    INGEST_GROUP_ID: `${o.prefix}ingest`,
    KAFKA_LINGER_MS: '20',
    INGEST_LINGER_MS: '50',
    SIMULATOR_URL: simulator.url,
    ...o.env,
  };
  const start = (role: string, dataDir: string) => startService(loadConfig({ ...env, DATA_DIR: dataDir }, [role]), { logger: createLogger(env.LOG_LEVEL) });
  const fresh = (name: string) => mkdtempSync(join(tmpdir(), `switchboard-fleet-${name}-`));
  // chDB holds one data directory per process: in-process, ingest and analytics share the "server".
  const warehouse = fresh('clickhouse');
  const ingest = await start('ingest', warehouse);
  const analytics = await start('analytics', warehouse);
  const routers: Service[] = [];
  for (let i = 0; i < o.routers; i++) routers.push(await start('router', fresh('router')));
  return {
    simulator,
    routers,
    ingest,
    analytics,
    close: async () => {
      await Promise.all(routers.map((r) => r.close()));
      await analytics.close();
      await ingest.close();
      await simulator.close();
    },
  };
}

export interface Interval {
  /** Seconds since the load started (end of the interval). */
  t: number;
  /** Attempts that reached the watched endpoint, and every endpoint of the model. */
  atEndpoint: number;
  atModel: number;
  requests: number;
  failures: number;
}

export interface LoadOptions {
  model: string;
  rps: number;
  stream: boolean;
  maxTokens: number;
  /** The endpoint whose share of arrivals is watched. */
  watch: Endpoint;
  intervalMs: number;
}

/** Steady open-loop load over every router in turn; every `intervalMs` a row of where it went. */
export class SteadyLoad {
  readonly rows: Interval[] = [];
  readonly failures: { t: number; status: number; detail: string }[] = [];
  requests = 0;
  private readonly agent = new Agent({ connections: 256 });
  private timers: NodeJS.Timeout[] = [];
  private inflight = new Set<Promise<void>>();
  private readonly t0 = Date.now();
  private last = new Map<string, number>();
  private windowRequests = 0;
  private windowFailures = 0;
  private readonly endpointIds: string[];

  constructor(
    private readonly fleet: Fleet,
    private readonly o: LoadOptions,
  ) {
    this.endpointIds = loadCatalog()
      .model(o.model)!
      .endpoints.map((e) => e.id);
  }

  start(): void {
    let i = 0;
    const gap = 1000 / this.o.rps;
    let next = Date.now();
    const fire = () => {
      const now = Date.now();
      while (next <= now) {
        const r = this.fleet.routers[i++ % this.fleet.routers.length];
        const p = this.one(r).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
        next += gap;
      }
    };
    this.timers.push(setInterval(fire, 5));
    this.snapshotCounts();
    this.timers.push(setInterval(() => this.sample(), this.o.intervalMs));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.inflight);
    await this.agent.close();
  }

  /** Seconds since start. */
  elapsed(): number {
    return (Date.now() - this.t0) / 1000;
  }

  private snapshotCounts(): Map<string, number> {
    const now = new Map(this.endpointIds.map((id) => [id, this.fleet.simulator.counts.get(id) ?? 0]));
    const prev = this.last;
    this.last = now;
    return new Map([...now].map(([id, n]) => [id, n - (prev.get(id) ?? 0)]));
  }

  private sample(): void {
    const d = this.snapshotCounts();
    this.rows.push({
      t: Math.round(this.elapsed() * 10) / 10,
      atEndpoint: d.get(this.o.watch.id) ?? 0,
      atModel: [...d.values()].reduce((a, b) => a + b, 0),
      requests: this.windowRequests,
      failures: this.windowFailures,
    });
    this.windowRequests = 0;
    this.windowFailures = 0;
  }

  private async one(r: Service): Promise<void> {
    this.requests++;
    this.windowRequests++;
    const fail = (status: number, detail: string) => {
      this.windowFailures++;
      this.failures.push({ t: this.elapsed(), status, detail: detail.slice(0, 300) });
    };
    try {
      const res = await request(`${r.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: this.o.model, messages: [{ role: 'user', content: 'Give me a short status report' }], max_tokens: this.o.maxTokens, stream: this.o.stream }),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) return fail(res.statusCode, text);
      // A stream that broke after it began ends with an error chunk: the client saw a failure.
      if (this.o.stream && (!text.includes('data: [DONE]') || text.includes('"finish_reason":"error"'))) return fail(200, text.slice(-300));
    } catch (err) {
      fail(0, (err as Error).message);
    }
  }
}

/** Share of the model's arrivals at the watched endpoint over rows[from..to). */
export function shareOf(rows: readonly Interval[]): number {
  const at = rows.reduce((s, r) => s + r.atEndpoint, 0);
  const all = rows.reduce((s, r) => s + r.atModel, 0);
  return all === 0 ? 0 : at / all;
}

/**
 * The endpoint's normal share: over the last 10 intervals of a warm-up of 20 s or more. At first the
 * routers weigh endpoints by the catalog's latencies, until their own samples take over, and the share
 * moves: two CI runs measured 42% and 49% over the first 15 s while the routers' plans settled at 31%.
 */
export const normalShareOf = (load: SteadyLoad): number => shareOf(load.rows.slice(-10));

export interface DrillResult {
  fault: string;
  normalShare: number;
  /**
   * Seconds from the fault until the endpoint's share stays at or below 5% over every later `smoothRows`
   * window of the fault (null: never). At a 2% hold and 60 arrivals a second, a single second holds 4 of
   * them (6.7%) about once in 30 seconds by chance alone, so one-second shares cannot tell leaving apart.
   */
  leftAfterS: number | null;
  /** The same over every single later interval (the strictest reading, noisy at low rates). */
  leftAfterS1: number | null;
  /** The endpoint's share of arrivals over the fault once traffic had left. */
  shareWhileFaulted: number;
  /** Requests, and failures clients saw, from the fault's start until traffic was back (or the wait ended). */
  requests: number;
  failures: number;
  /** Seconds from the fault's end until its share is back to at least `backAt` of normal (null: not within the wait). */
  backAfterS: number | null;
  /** The endpoint's share in each interval from the fault's end, in percent: what a slow return looked like. */
  sharesAfter: number[];
}

export interface DrillOptions {
  fault: Fault;
  faultS: number;
  /** Longest wait for the share to come back after the fault. */
  recoverWaitS: number;
  /** Fraction of the normal share that counts as "back". */
  backAt: number;
  /** Rows over which "left" and "back" are judged (smoothing: the share of a short interval is noisy). */
  smoothRows: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** First index i ≥ from such that every row window starting at or after i (to `until`) satisfies ok. */
function settledFrom(rows: readonly Interval[], from: number, until: number, smooth: number, ok: (share: number) => boolean): number | null {
  for (let i = from; i + smooth <= until; i++) {
    let all = true;
    for (let j = i; j + smooth <= until; j++) {
      if (!ok(shareOf(rows.slice(j, j + smooth)))) {
        all = false;
        break;
      }
    }
    if (all) return i;
  }
  return null;
}

/** Inject a fault into a running load, hold it, clear it, and measure leave / failures / return. */
export async function runDrill(fleet: Fleet, load: SteadyLoad, normalShare: number, o: DrillOptions, intervalMs: number): Promise<DrillResult> {
  const startRow = load.rows.length;
  const failuresBefore = load.failures.length;
  const requestsBefore = load.requests;
  fleet.simulator.faults.set(o.fault);
  await sleep(o.faultS * 1000);
  fleet.simulator.faults.clear();
  const endRow = load.rows.length;
  // Wait until the share is back (judged over smoothRows rows), or the wait is over.
  const deadline = Date.now() + o.recoverWaitS * 1000;
  let backRow: number | null = null;
  while (Date.now() < deadline) {
    await sleep(intervalMs);
    const rows = load.rows;
    for (let i = endRow; i + o.smoothRows <= rows.length; i++) {
      if (shareOf(rows.slice(i, i + o.smoothRows)) >= o.backAt * normalShare) {
        backRow = i + o.smoothRows;
        break;
      }
    }
    if (backRow !== null) break;
  }
  const rows = load.rows;
  const leftRow = settledFrom(rows, startRow, endRow, o.smoothRows, (s) => s <= 0.05);
  const leftRow1 = settledFrom(rows, startRow, endRow, 1, (s) => s <= 0.05);
  const rowS = intervalMs / 1000;
  return {
    fault: `${o.fault.mode}${o.fault.status ? ` ${o.fault.status}` : ''}${o.fault.multiplier ? ` ×${o.fault.multiplier}` : ''}${o.fault.maxRps !== undefined ? ` above ${o.fault.maxRps}/s` : ''} on ${o.fault.provider}`,
    normalShare,
    leftAfterS: leftRow === null ? null : (leftRow - startRow) * rowS,
    leftAfterS1: leftRow1 === null ? null : (leftRow1 - startRow) * rowS,
    shareWhileFaulted: leftRow === null ? shareOf(rows.slice(startRow, endRow)) : shareOf(rows.slice(leftRow, endRow)),
    requests: load.requests - requestsBefore,
    failures: load.failures.length - failuresBefore,
    backAfterS: backRow === null ? null : (backRow - endRow) * rowS,
    sharesAfter: rows.slice(endRow).map((r) => Math.round(shareOf([r]) * 100)),
  };
}
