// The ingest process killed hard (SIGKILL) again and again during a steady stream, then restarted: every
// request and attempt reaches ClickHouse exactly once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeClickHouse, openClickHouse, queryRows } from '../../store/clickhouse.ts';
import type { Service } from '../../service/server.ts';
import { kafkaOrSkip, testPrefix, ownTopicsEnv } from '../helpers/kafka.ts';
import { startServiceProcess, stopProcess, type Child } from '../helpers/process.ts';
import { auth, chatBody, startTestService } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const prefix = testPrefix('crash');
const kafkaEnv = {
  ...ownTopicsEnv(brokers, prefix),
  LOG_LEVEL: 'info',
  RATE_LIMIT_PER_MINUTE: '1000000',
  INGEST_SESSION_TIMEOUT_MS: '6000',
};
// Half of each second sits between an insert and its commit, so the kills land there: exactly the replays
// the high-water marks must absorb.
const ingestEnv = { ...kafkaEnv, INGEST_COMMIT_DELAY_MS: '500' };
const ingestDir = mkdtempSync(join(tmpdir(), 'switchboard-ingest-'));

let router: Service | undefined;
let ingest: Child | undefined;
afterAll(async () => {
  await router?.close();
  if (ingest) await stopProcess(ingest, 'SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!brokers)('ingest crashes', () => {
  it('SIGKILL of the ingest process four times mid-stream: no loss, no duplicate', async () => {
    router = await startTestService(kafkaEnv, undefined, 'router');
    router.simulator!.faults.set({ provider: 'openai', mode: 'error', status: 503, rate: 0.3 });
    const startIngest = () => startServiceProcess('ingest', { ...ingestEnv, DATA_DIR: ingestDir });
    ingest = await startIngest();

    const ids: string[] = [];
    let streaming = true;
    const load = (async () => {
      // A steady stream of about 100 requests a second until the crashes are over.
      while (streaming) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, async () => {
            const res = await fetch(`${router!.url}/v1/chat/completions`, {
              method: 'POST',
              headers: auth(),
              body: JSON.stringify(chatBody('openai/gpt-4o-mini', { provider: { order: ['openai'] } })),
            });
            await res.arrayBuffer();
            expect(res.status).toBe(200);
            return res.headers.get('x-switchboard-generation-id')!;
          }),
        );
        ids.push(...batch);
        await sleep(100);
      }
    })();

    let kills = 0;
    for (let round = 0; round < 4; round++) {
      await sleep(1500 + Math.random() * 1500);
      await stopProcess(ingest, 'SIGKILL');
      kills++;
      ingest = await startIngest();
    }
    await sleep(1000);
    streaming = false;
    await load;
    const attemptsEmitted = router.bus.accepted - ids.length;
    expect(router.bus.dropped).toBe(0);
    expect(kills).toBe(4);

    // Let the last ingest catch up, stop it cleanly, then read its ClickHouse directly.
    let counts = { requests: 0, attempts: 0, distinctEvents: 0, distinctGenerations: 0 };
    let aggregates = { raw: '', hourly: '', daily: '' };
    for (let round = 0; round < 3; round++) {
      await sleep(4000);
      expect(await stopProcess(ingest)).toBe(0);
      const ch = await openClickHouse({ url: undefined, dataDir: ingestDir });
      const params = { ids };
      const [r] = await queryRows<{ n: string; e: string; g: string }>(
        ch,
        'SELECT count() AS n, uniqExact(event_id) AS e, uniqExact(generation_id) AS g FROM requests WHERE generation_id IN {ids:Array(String)}',
        params,
      );
      const [a] = await queryRows<{ n: string; e: string }>(ch, 'SELECT count() AS n, uniqExact(event_id) AS e FROM attempts WHERE generation_id IN {ids:Array(String)}', params);
      // The materialized views fed by those inserts must hold exactly the same sums as the raw rows.
      const sums = 'sum(requests) AS n, sum(tokens_prompt) AS p, sum(tokens_completion) AS c, sum(cost_nusd) AS cost';
      const [raw] = await queryRows(
        ch,
        "SELECT count() AS n, sum(tokens_prompt) AS p, sum(tokens_completion) AS c, sum(toUInt64(round(cost_usd * 1e9))) AS cost FROM requests WHERE account_id = 'acct_dev'",
      );
      const [daily] = await queryRows(ch, `SELECT ${sums} FROM usage_daily_account WHERE account_id = 'acct_dev'`);
      const [hourly] = await queryRows(ch, `SELECT ${sums} FROM usage_hourly`);
      const numbers = (r: unknown) => JSON.stringify(Object.values(r as Record<string, unknown>).map(Number));
      aggregates = { raw: numbers(raw), hourly: numbers(hourly), daily: numbers(daily) };
      await closeClickHouse(ch, true);
      counts = { requests: Number(r.n), attempts: Number(a.n), distinctEvents: Number(r.e) + Number(a.e), distinctGenerations: Number(r.g) };
      if (counts.requests >= ids.length && counts.attempts >= attemptsEmitted) break;
      ingest = await startIngest(); // not caught up yet: give it more time
    }
    expect(counts.requests).toBe(ids.length);
    expect(counts.distinctGenerations).toBe(ids.length);
    expect(counts.attempts).toBe(attemptsEmitted);
    expect(counts.distinctEvents).toBe(counts.requests + counts.attempts);
    expect(ids.length).toBeGreaterThan(500);
    expect(JSON.parse(aggregates.raw)[0]).toBe(ids.length);
    expect(aggregates.daily).toBe(aggregates.raw);
    expect(aggregates.hourly).toBe(aggregates.raw);
  }, 180_000);
});
