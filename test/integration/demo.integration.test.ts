// `npm start` on an empty database with the simulator: a simulated population's history is backfilled,
// then its accounts keep sending live requests, so the pages have data from the first minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../store/clickhouse.ts';
import type { Service } from '../../service/server.ts';
import { eventually, startTestService } from '../helpers/service.ts';

let s: Service;
beforeAll(async () => {
  s = await startTestService({ DEMO: 'auto', DEMO_ACCOUNTS: '60', DEMO_DAYS: '21', DEMO_LIVE_RPS: '20', RATE_LIMIT_PER_MINUTE: '100000' });
});
afterAll(async () => s?.close());

const count = async (where: string) => Number((await queryRows<{ n: string }>(s.clickhouse!, `SELECT count() AS n FROM requests WHERE ${where}`))[0].n);

describe('demo data', () => {
  it('backfills weeks of simulated history, then live requests from the same accounts arrive', async () => {
    const started = new Date().toISOString().slice(0, 23).replace('T', ' ');
    await eventually(
      () => count("account_id LIKE 'pop_%'"),
      (n) => n > 1000,
    );
    const days = Number((await queryRows<{ d: string }>(s.clickhouse!, "SELECT uniqExact(toDate(ts)) AS d FROM requests WHERE account_id LIKE 'pop_%'"))[0].d);
    expect(days).toBeGreaterThanOrEqual(20);
    const rankings = (await (await fetch(`${s.url}/api/v1/rankings?period=month`)).json()) as { models: unknown[]; apps: unknown[] };
    expect(rankings.models.length).toBeGreaterThan(5);
    // Live: real requests through the router, recorded like any other.
    await eventually(
      () => count(`account_id LIKE 'pop_%' AND ts >= '${started}' AND attempts > 0`),
      (n) => n >= 20,
      30_000,
    );
    const [live] = await queryRows<{ ok: string }>(
      s.clickhouse!,
      `SELECT countIf(status = 200) AS ok FROM requests WHERE account_id LIKE 'pop_%' AND ts >= '${started}' AND attempts > 0`,
    );
    expect(Number(live.ok)).toBeGreaterThan(0);
  });

  it("records the simulated price cut in the catalog's history, so the preference API lists it", async () => {
    const kimi = s.catalog.model('moonshotai/kimi-k2')!;
    const history = await eventually(
      () =>
        queryRows<{ endpoint_id: string; price_prompt: number }>(
          s.clickhouse!,
          "SELECT endpoint_id, price_prompt FROM catalog_history WHERE change = 'price' AND ts < now() - INTERVAL 1 DAY ORDER BY endpoint_id",
        ),
      (rows) => rows.length > 0,
    );
    // Every endpoint of the cut model, at 40% of its catalog price.
    expect(history.map((r) => r.endpoint_id)).toEqual(kimi.endpoints.map((e) => e.id).sort());
    for (const r of history) expect(r.price_prompt).toBeCloseTo(kimi.endpoints.find((e) => e.id === r.endpoint_id)!.pricePrompt * 0.4, 12);
    const pref = (await (await fetch(`${s.url}/api/v1/rankings/preference?period=month`)).json()) as {
      price_events: { model: string; at: string }[];
    };
    // (A process starting later records the catalog's own price back as a change of its own, now.)
    const events = pref.price_events.filter((e) => e.model === 'moonshotai/kimi-k2' && Date.parse(e.at) < Date.now() - 86_400_000);
    expect(events).toHaveLength(kimi.endpoints.length);
  });

  it("a model page's provider table and its charts have figures for the backfilled days, not only the live minutes", async () => {
    const stats = (await (await fetch(`${s.url}/api/v1/models/deepseek/deepseek-chat/stats`)).json()) as {
      endpoints: { requests_1d: number; tokens_per_second: number | null; ttft_ms: { p50: number } | null }[];
    };
    const served = stats.endpoints.filter((e) => e.requests_1d > 0);
    expect(served.length).toBeGreaterThan(0);
    for (const e of served) expect(e.ttft_ms?.p50).toBeGreaterThan(0);
    expect(served.some((e) => e.tokens_per_second !== null && e.tokens_per_second > 0)).toBe(true);
    const perf = (await (await fetch(`${s.url}/api/v1/models/deepseek/deepseek-chat/performance?days=2`)).json()) as { points: { t: string }[] };
    // The backfill's last two days of attempts, hour by hour (the live demo adds only the current hour).
    expect(new Set(perf.points.map((p) => p.t)).size).toBeGreaterThan(12);
  });
});
