// The two reads behind every signal: the latest attempts per endpoint from the raw table (seconds fresh),
// and uptimes and baselines from the per-minute aggregate (cheap over a day).
import { dateTime64, queryRows, type ClickHouseClient } from '../../store/clickhouse.ts';
import { NOT_ABOUT_PROVIDER, PROVIDER_FAILURES, THROUGHPUT_SAMPLE_SQL } from '../../telemetry/event.ts';
import type { LongStats, WindowStats } from './judge.ts';

// The contract's own constants as SQL lists (never input).
const sqlList = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');
const FAILED = `error_class IN (${sqlList(PROVIDER_FAILURES)})`;

// One scan over the streak lookback: the window's figures from its rows (`in_window`), and the streak of
// successes since each endpoint's latest failure from all of them. An endpoint held at its probe share gets
// a few attempts a minute, and the successes that show it back would otherwise have to fall inside one
// window together (a recovery seen 20-30 s late in the drills). An endpoint with attempts in the lookback
// alone gets its streak and zero counts.
const WINDOW_SQL = `
  SELECT endpoint_id, any(provider) AS provider, any(model) AS model,
         countIf(sampled) AS requests,
         if(countIf(${FAILED}) = 0, count(), minIf(rn, ${FAILED}) - 1) AS streak,
         countIf(sampled AND error_class = 'none') AS ok,
         countIf(sampled AND ${FAILED}) AS failed,
         countIf(sampled AND error_class = 'rate_limited') AS limited,
         sumMapIf(map(toString(error_class), toUInt64(1)), sampled AND error_class != 'none') AS by_class,
         quantilesIf(0.5, 0.95)(latency_ms, fast_sample AND error_class = 'none') AS lat,
         quantilesIf(0.5, 0.95)(ttft_ms, fast_sample AND error_class = 'none') AS ttft,
         sumIf(tokens_completion, sampled AND ${THROUGHPUT_SAMPLE_SQL}) AS decode_tokens,
         sumIf(toFloat64(latency_ms - ttft_ms), sampled AND ${THROUGHPUT_SAMPLE_SQL}) AS decode_ms,
         countIf(in_window) AS attempts_window,
         countIf(in_window AND error_class = 'rate_limited') AS limited_window,
         maxIf(accepted_in_second, in_window AND limited_in_second > 0) AS peak,
         countIf(in_window AND second >= toStartOfSecond({now:DateTime64(3)}) - 2) AS recent,
         countIf(in_window AND second >= toStartOfSecond({now:DateTime64(3)}) - 2 AND error_class = 'rate_limited') AS limited_recent
  FROM (
    SELECT endpoint_id, provider, model, error_class, latency_ms, ttft_ms, tokens_completion, streamed,
           ts > {since:DateTime64(3)} AS in_window,
           -- Newest first: the window's rows are the first ones, so their numbers are those within the window.
           row_number() OVER (PARTITION BY endpoint_id ORDER BY ts DESC) AS rn,
           in_window AND rn <= {sample:UInt32} AS sampled,
           in_window AND rn <= {latency_sample:UInt32} AS fast_sample,
           toStartOfSecond(ts) AS second,
           -- What it accepted in each second that also saw 429s: demand exceeded what it takes in such a
           -- second, so its count shows the capacity (a window average would mix in the quiet seconds when
           -- the fleet held it back; a second without 429s, such as one before a storm began, shows only demand).
           countIf(in_window AND error_class != 'rate_limited') OVER (PARTITION BY endpoint_id, second) AS accepted_in_second,
           countIf(in_window AND error_class = 'rate_limited') OVER (PARTITION BY endpoint_id, second) AS limited_in_second
    FROM attempts
    WHERE ts > {lookback_since:DateTime64(3)} AND ts <= {now:DateTime64(3)} AND error_class NOT IN (${sqlList(NOT_ABOUT_PROVIDER)})
  )
  GROUP BY endpoint_id`;

/** How far back a streak of successes is counted. */
export const STREAK_LOOKBACK_S = 60;

interface WindowRow {
  endpoint_id: string;
  provider: string;
  model: string;
  requests: string;
  streak: string;
  ok: string;
  failed: string;
  limited: string;
  by_class: Record<string, string>;
  lat: number[];
  ttft: number[];
  decode_tokens: string;
  decode_ms: number;
  attempts_window: string;
  limited_window: string;
  peak: string;
  recent: string;
  limited_recent: string;
}

const finite = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);

/** The window's figures for every endpoint with attempts in the lookback (zero counts when none in the window). */
export async function readWindow(ch: ClickHouseClient, now: number, windowS: number, sample: number, latencySample: number): Promise<WindowStats[]> {
  const rows = await queryRows<WindowRow>(ch, WINDOW_SQL, {
    since: dateTime64(now - windowS * 1000),
    lookback_since: dateTime64(now - Math.max(windowS, STREAK_LOOKBACK_S) * 1000),
    now: dateTime64(now),
    sample,
    latency_sample: latencySample,
  });
  return rows.map((r) => ({
    endpoint_id: r.endpoint_id,
    provider: r.provider,
    model: r.model,
    requests: Number(r.requests),
    streak: Number(r.streak),
    ok: Number(r.ok),
    failed: Number(r.failed),
    limited: Number(r.limited),
    by_class: Object.fromEntries(Object.entries(r.by_class).map(([k, v]) => [k, Number(v)])),
    latency_p50_ms: finite(r.lat[0]),
    latency_p95_ms: finite(r.lat[1]),
    ttft_p50_ms: finite(r.ttft[0]),
    ttft_p95_ms: finite(r.ttft[1]),
    tokens_per_second: r.decode_ms > 0 ? (Number(r.decode_tokens) * 1000) / r.decode_ms : null,
    peak_accepted_per_s: Number(r.peak),
    recent: Number(r.recent),
    limited_recent: Number(r.limited_recent),
    attempts_window: Number(r.attempts_window),
    limited_window: Number(r.limited_window),
  }));
}

const uptime = (m: number) => `if(sumIf(successes + failures, minute >= {now:DateTime} - INTERVAL ${m} MINUTE) = 0, NULL,
  sumIf(successes, minute >= {now:DateTime} - INTERVAL ${m} MINUTE) / sumIf(successes + failures, minute >= {now:DateTime} - INTERVAL ${m} MINUTE))`;

// Minutes are labelled by their start: "the last 5 minutes" are those starting after now - 5 min (the
// current, partial one included). The baseline stops before the minute the status window begins in.
const LONG_SQL = `
  SELECT endpoint_id,
         ${uptime(5)} AS uptime_5m,
         ${uptime(30)} AS uptime_30m,
         ${uptime(1440)} AS uptime_1d,
         countIf(minute < {base_to:DateTime} AND minute >= {base_from:DateTime}) > 0 AS has_baseline,
         quantilesTDigestMergeIf(0.5, 0.9, 0.99)(ttft, minute < {base_to:DateTime} AND minute >= {base_from:DateTime})[1] AS base_ttft,
         quantilesTDigestMergeIf(0.5, 0.9, 0.99)(latency, minute < {base_to:DateTime} AND minute >= {base_from:DateTime})[1] AS base_latency
  FROM endpoint_minute
  WHERE minute >= {now:DateTime} - INTERVAL 1 DAY
  GROUP BY endpoint_id`;

const seconds = (ms: number) => Math.floor(ms / 1000);

export async function readLong(ch: ClickHouseClient, now: number, windowS: number, baselineMinutes: number): Promise<Map<string, LongStats>> {
  const baseTo = Math.floor((now - windowS * 1000) / 60_000) * 60;
  const rows = await queryRows<{
    endpoint_id: string;
    uptime_5m: number | null;
    uptime_30m: number | null;
    uptime_1d: number | null;
    has_baseline: number | boolean;
    base_ttft: number;
    base_latency: number;
  }>(ch, LONG_SQL, {
    now: seconds(now),
    base_to: baseTo,
    base_from: baseTo - baselineMinutes * 60,
  });
  return new Map(
    rows.map((r) => [
      r.endpoint_id,
      {
        uptime_5m: r.uptime_5m,
        uptime_30m: r.uptime_30m,
        uptime_1d: r.uptime_1d,
        baseline_ttft_p50_ms: r.has_baseline ? finite(r.base_ttft) : null,
        baseline_latency_p50_ms: r.has_baseline ? finite(r.base_latency) : null,
      },
    ]),
  );
}
