// What one router has seen of one endpoint lately: latency and speed samples, and outcomes in 10-second
// buckets over five minutes for a local uptime. Uptime follows OpenRouter's definition: client errors
// (400/413) are not failures, and 429s are counted apart.
import { measuresThroughput } from '../../telemetry/event.ts';

const SAMPLES = 256;
const BUCKET_MS = 10_000;
const BUCKETS = 30;

export type Outcome = 'success' | 'failure' | 'rate_limited' | 'client_error';

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function quantile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export interface StatsSnapshot {
  requests_5m: number;
  uptime_5m: number | null;
  rate_limited_5m: number;
  ttft_p50_ms: number | null;
  completion_tokens_p50: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  tokens_per_second_p50: number | null;
}

/** One answered attempt's timing and length. */
export interface AnswerSample {
  latencyMs: number;
  ttftMs: number;
  completionTokens: number;
  streamed: boolean;
}

export class EndpointStats {
  private ttft: number[] = [];
  private latency: number[] = [];
  private tps: number[] = [];
  private tokens: number[] = [];
  private cursor = 0;
  private buckets = new Map<number, { ok: number; fail: number; limited: number }>();
  lastFailureAt = 0;
  /** When an answer last broke off mid-way here (streams to this endpoint are then read whole first). */
  lastCutAt = 0;
  /** Set from a 429's Retry-After: no traffic before then. */
  coolUntil = 0;
  /** Routing reads the snapshot on every request; sorting samples each time cost a fifth of the router's CPU. */
  private cached: { at: number; records: number; snap: StatsSnapshot } | undefined;
  private records = 0;

  record(outcome: Outcome, now: number, answer?: AnswerSample): void {
    this.records++;
    const key = Math.floor(now / BUCKET_MS);
    let b = this.buckets.get(key);
    if (!b) {
      b = { ok: 0, fail: 0, limited: 0 };
      this.buckets.set(key, b);
      for (const k of this.buckets.keys()) if (k <= key - BUCKETS) this.buckets.delete(k);
    }
    if (outcome === 'success') b.ok++;
    else if (outcome === 'failure') {
      b.fail++;
      this.lastFailureAt = now;
    } else if (outcome === 'rate_limited') {
      b.limited++;
      this.lastFailureAt = now;
    }
    if (outcome === 'success' && answer !== undefined) {
      const i = this.cursor++ % SAMPLES;
      this.latency[i] = answer.latencyMs;
      this.ttft[i] = answer.ttftMs;
      this.tokens[i] = answer.completionTokens;
      this.tps[i] = measuresThroughput(answer) ? (answer.completionTokens * 1000) / (answer.latencyMs - answer.ttftMs) : NaN;
    }
  }

  /** Recomputed when 250 ms old, or when the records since are many relative to what it was built on. */
  snapshot(now = Date.now()): StatsSnapshot {
    const c = this.cached;
    if (c && now - c.at < 250 && now >= c.at && this.records - c.records < Math.max(1, c.records >> 3)) return c.snap;
    const snap = this.compute(now);
    this.cached = { at: now, records: this.records, snap };
    return snap;
  }

  private compute(now: number): StatsSnapshot {
    const since = Math.floor(now / BUCKET_MS) - BUCKETS;
    let ok = 0;
    let fail = 0;
    let limited = 0;
    for (const [k, b] of this.buckets) {
      if (k <= since) continue;
      ok += b.ok;
      fail += b.fail;
      limited += b.limited;
    }
    const tps = this.tps.filter((x) => Number.isFinite(x));
    return {
      requests_5m: ok + fail + limited,
      uptime_5m: ok + fail === 0 ? null : ok / (ok + fail),
      rate_limited_5m: limited,
      ttft_p50_ms: median(this.ttft) ?? null,
      completion_tokens_p50: median(this.tokens.filter((x) => Number.isFinite(x))) ?? null,
      latency_p50_ms: median(this.latency) ?? null,
      latency_p99_ms: quantile(this.latency, 0.99) ?? null,
      tokens_per_second_p50: median(tps) ?? null,
    };
  }
}
