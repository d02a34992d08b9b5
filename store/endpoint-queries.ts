// Per-endpoint figures over recent windows, as OpenRouter publishes them for a model's endpoints: uptime
// over 5 minutes, 30 minutes and a day (answered / (answered + provider failures), 429s and the request's
// own faults left out), and over 30 minutes the time to first token and the streaming throughput by
// percentile. Read from the raw attempts (ordered by endpoint and time, so a model's endpoints read little).
import type { ClickHouseClient } from '@clickhouse/client';
import { PROVIDER_FAILURES, THROUGHPUT_SAMPLE_SQL } from '../telemetry/event.ts';
import { dateTime64, queryRows } from './clickhouse.ts';

export interface Percentiles {
  p50: number;
  p75: number;
  p90: number;
  p99: number;
}

export interface EndpointFigures {
  /** Percent; null without an answer or a provider failure in the window. */
  uptime_5m: number | null;
  uptime_30m: number | null;
  uptime_1d: number | null;
  /** Time to first token in ms; p99 is the slowest percent. */
  latency_30m: Percentiles | null;
  /** Streamed tokens per second after the first token; p99 is the slowest percent. */
  throughput_30m: Percentiles | null;
  requests_30m: number;
}

interface Row {
  endpoint_id: string;
  ok_5m: string;
  failed_5m: string;
  ok_30m: string;
  failed_30m: string;
  ok_1d: string;
  failed_1d: string;
  latency: number[];
  throughput: number[];
  streamed_30m: string;
}

const SINCE_30M = 'ts >= {now:DateTime64(3)} - INTERVAL 30 MINUTE';
const SINCE_5M = 'ts >= {now:DateTime64(3)} - INTERVAL 5 MINUTE';
const ANSWERED = "error_class = 'none'";
const FAILED = 'error_class IN {failures:Array(String)}';
const RATE = 'tokens_completion / ((latency_ms - ttft_ms) / 1000)';

const uptime = (ok: string, failed: string) => {
  const [a, f] = [Number(ok), Number(failed)];
  return a + f === 0 ? null : Math.round((10_000 * a) / (a + f)) / 100;
};
const percentiles = (q: number[], n: number): Percentiles | null => (n === 0 ? null : { p50: q[0], p75: q[1], p90: q[2], p99: q[3] });

export async function endpointFigures(client: ClickHouseClient, endpointIds: readonly string[], now: number): Promise<Map<string, EndpointFigures>> {
  const rows = await queryRows<Row>(
    client,
    `SELECT endpoint_id,
            countIf(${ANSWERED} AND ${SINCE_5M}) AS ok_5m, countIf(${FAILED} AND ${SINCE_5M}) AS failed_5m,
            countIf(${ANSWERED} AND ${SINCE_30M}) AS ok_30m, countIf(${FAILED} AND ${SINCE_30M}) AS failed_30m,
            countIf(${ANSWERED}) AS ok_1d, countIf(${FAILED}) AS failed_1d,
            quantilesIf(0.5, 0.75, 0.9, 0.99)(ttft_ms, ${ANSWERED} AND ${SINCE_30M}) AS latency,
            quantilesIf(0.5, 0.25, 0.1, 0.01)(${RATE}, ${THROUGHPUT_SAMPLE_SQL} AND ${SINCE_30M}) AS throughput,
            countIf(${THROUGHPUT_SAMPLE_SQL} AND ${SINCE_30M}) AS streamed_30m
       FROM attempts
      WHERE endpoint_id IN {ids:Array(String)} AND ts >= {now:DateTime64(3)} - INTERVAL 1 DAY AND ts <= {now:DateTime64(3)}
      GROUP BY endpoint_id`,
    { ids: endpointIds, now: dateTime64(now), failures: PROVIDER_FAILURES },
  );
  const round = (q: number[]) => q.map((v) => Math.round(v * 10) / 10);
  return new Map(
    rows.map((r) => [
      r.endpoint_id,
      {
        uptime_5m: uptime(r.ok_5m, r.failed_5m),
        uptime_30m: uptime(r.ok_30m, r.failed_30m),
        uptime_1d: uptime(r.ok_1d, r.failed_1d),
        latency_30m: percentiles(round(r.latency), Number(r.ok_30m)),
        throughput_30m: percentiles(round(r.throughput), Number(r.streamed_30m)),
        requests_30m: Number(r.ok_30m) + Number(r.failed_30m),
      },
    ]),
  );
}

export interface PerformancePoint {
  t: string;
  provider: string;
  requests: number;
  /** Percent of answered among answered and provider failures; null without either. */
  uptime: number | null;
  ttft_ms: Percentiles | null;
  latency_ms: Percentiles | null;
  /** Streamed tokens per second after the first token; p99 is the slowest percent. */
  tokens_per_second: Percentiles | null;
}

/** A model's providers per hour or day over [fromMs, toMs), from the hourly digests (migration 13). */
export async function performanceOverTime(client: ClickHouseClient, model: string, fromMs: number, toMs: number, bucket: 'hour' | 'day'): Promise<PerformancePoint[]> {
  const rows = await queryRows<{ t: string; provider: string; n: string; ok: string; failed: string; ttft: number[]; latency: number[]; rate: number[] }>(
    client,
    `SELECT formatDateTime(${bucket === 'hour' ? 'hour' : 'toStartOfDay(hour)'}, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS t, provider,
            sum(attempts) AS n, sum(successes) AS ok, sum(failures) AS failed,
            quantilesTDigestMerge(0.5, 0.75, 0.9, 0.99)(ttft) AS ttft, quantilesTDigestMerge(0.5, 0.75, 0.9, 0.99)(latency) AS latency,
            quantilesTDigestMerge(0.5, 0.25, 0.1, 0.01)(throughput) AS rate
       FROM endpoint_hour
      WHERE model = {model:String} AND hour >= {from:DateTime64(3)} AND hour < {to:DateTime64(3)}
      GROUP BY t, provider ORDER BY t, provider`,
    { model, from: dateTime64(fromMs), to: dateTime64(toMs) },
  );
  const round = (q: number[]) => q.map((v) => Math.round(v * 10) / 10);
  const finite = (q: number[]) => q.length === 4 && q.every(Number.isFinite);
  return rows.map((r) => ({
    t: r.t,
    provider: r.provider,
    requests: Number(r.n),
    uptime: uptime(r.ok, r.failed),
    ttft_ms: Number(r.ok) > 0 && finite(r.ttft) ? percentiles(round(r.ttft), 1) : null,
    latency_ms: Number(r.ok) > 0 && finite(r.latency) ? percentiles(round(r.latency), 1) : null,
    tokens_per_second: finite(r.rate) && r.rate.some((x) => x > 0) ? percentiles(round(r.rate), 1) : null,
  }));
}
