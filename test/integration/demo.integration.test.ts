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
});
