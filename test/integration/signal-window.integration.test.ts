// What the signal computer reads from the attempts table (chDB in-process, attempts written at chosen
// times): the window's figures, and a streak of successes counted past the window, so an endpoint held at
// its probe share, which gets a few attempts a minute, is seen answering again without needing them all
// inside one window.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeClickHouse, openClickHouse, type ClickHouseClient } from '../../store/clickhouse.ts';
import { migrate } from '../../store/migrate.ts';
import { judge } from '../../analytics/signals/judge.ts';
import { readWindow, STREAK_LOOKBACK_S } from '../../analytics/signals/queries.ts';
import { loadCatalog, type Endpoint } from '../../catalog/catalog.ts';
import { loadConfig } from '../../core/config.ts';
import { attemptEvent } from '../../router/events.ts';
import { insertEvents } from '../../store/rows.ts';
import type { ErrorClass } from '../../telemetry/event.ts';

const cfg = loadConfig({}).signals;
const model = loadCatalog().model('meta-llama/llama-3.3-70b-instruct')!;
const [probed, quiet, busy, capped] = ['lambda', 'nebius', 'groq', 'together'].map((p) => model.endpoints.find((e) => e.provider === p)!);
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
let ch: ClickHouseClient;

async function attempts(e: Endpoint, list: [secondsAgo: number, cls: ErrorClass][]): Promise<void> {
  const events = list.map(([ago, cls], i) =>
    attemptEvent({ generationId: `gen-${e.provider}-${ago}-${i}`, accountId: 'acct', keyId: 'key', streamed: false }, 0, NOW - ago * 1000, e, {
      status: cls === 'none' ? 200 : 500,
      errorClass: cls,
      latencyMs: 100,
      ttftMs: cls === 'none' ? 50 : 0,
      tokensPrompt: 10,
      tokensCompletion: cls === 'none' ? 5 : 0,
      costUsd: 0,
    }),
  );
  await insertEvents(ch, events);
}

beforeAll(async () => {
  ch = await openClickHouse({ url: undefined, dataDir: mkdtempSync(join(tmpdir(), 'signal-window-')) });
  await migrate(ch, 400);
  // Held down at its probe share: failures, then one success every ~12 s since the fault ended.
  await attempts(probed, [
    [55, 'upstream_5xx'],
    [50, 'upstream_5xx'],
    [45, 'upstream_5xx'],
    [32, 'none'],
    [20, 'none'],
    [4, 'none'],
  ]);
  // Nothing in the window at all: a failure, then two successes, all older than the window.
  await attempts(quiet, [
    [40, 'upstream_5xx'],
    [30, 'none'],
    [15, 'none'],
  ]);
  // Busy: a failure in the window two attempts ago, and attempts older than the lookback that do not count.
  await attempts(busy, [
    [STREAK_LOOKBACK_S + 5, 'upstream_5xx'],
    [STREAK_LOOKBACK_S + 2, 'none'],
    [8, 'none'],
    [6, 'upstream_5xx'],
    [3, 'none'],
    [1, 'none'],
  ]);
  // Accepted and refused within the same second twice (at 5 and 4 s ago), refused only at 3 s ago; a busier
  // second 20 s ago is past the window and counts for nothing but the streak.
  await attempts(capped, [
    [20.1, 'none'],
    [20.2, 'none'],
    [20.3, 'none'],
    [20.4, 'rate_limited'],
    [5.1, 'none'],
    [5.2, 'none'],
    [5.3, 'rate_limited'],
    [4.1, 'none'],
    [4.2, 'rate_limited'],
    [3.1, 'rate_limited'],
    [2.1, 'none'],
  ]);
}, 60_000);
afterAll(async () => {
  if (ch) await closeClickHouse(ch, true);
});

describe('the signal window', () => {
  it('counts the streak of successes since the latest failure past the window, and only within the lookback', async () => {
    const rows = new Map((await readWindow(ch, NOW, cfg.windowS, cfg.sampleMax, cfg.latencySample)).map((w) => [w.endpoint_id, w]));
    expect(rows.get(probed.id)).toMatchObject({ requests: 1, ok: 1, failed: 0, streak: 3 });
    expect(rows.get(quiet.id)).toMatchObject({ requests: 0, streak: 2, provider: 'nebius', model: model.id });
    expect(rows.get(busy.id)).toMatchObject({ requests: 4, ok: 3, failed: 1, streak: 2 });
  });

  it('takes the most accepted in a second that also refused', async () => {
    const w = (await readWindow(ch, NOW, cfg.windowS, cfg.sampleMax, cfg.latencySample)).find((x) => x.endpoint_id === capped.id)!;
    expect(w).toMatchObject({ peak_accepted_per_s: 2, limited_window: 3, attempts_window: 7 });
  });

  it('so a down endpoint answering its probes turns recovering though its window holds one attempt', async () => {
    const w = (await readWindow(ch, NOW, cfg.windowS, cfg.sampleMax, cfg.latencySample)).find((x) => x.endpoint_id === probed.id)!;
    const long = { uptime_5m: null, uptime_30m: null, uptime_1d: null, baseline_ttft_p50_ms: null, baseline_latency_p50_ms: null };
    const prev = { status: 'down' as const, since: NOW - 50_000, cause: 'errors' as const, cap: null, ttftNormal: null, latencyNormal: null };
    expect(judge(w, long, { ttft_p50_ms: null, latency_p50_ms: null, error_rate: null }, prev, cfg, NOW).status).toBe('recovering');
  });
});
