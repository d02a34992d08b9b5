// An ingest process started while its broker is away waits for it (not ready meanwhile) instead of exiting,
// and consumes everything once the broker is there.
import { afterAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../store/clickhouse.ts';
import type { Service } from '../../service/server.ts';
import { kafkaOrSkip, ownBroker, testPrefix, ownTopicsEnv } from '../helpers/kafka.ts';
import { auth, chatBody, eventually, startTestService } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const { kafka, start } = ownBroker('late', 20_000 + (process.pid % 200));

let router: Service | undefined;
let ingest: Service | undefined;
afterAll(async () => {
  await router?.close();
  await ingest?.close();
  if (brokers) kafka('stop');
});

describe.skipIf(!brokers)('ingest started before its broker', () => {
  it('waits, not ready, then consumes every event once the broker is up', async () => {
    const own = start();
    kafka('stop');
    const prefix = testPrefix('late');
    const env = ownTopicsEnv(own, prefix);
    ingest = await startTestService(env, undefined, 'ingest');
    const ready = async () => (await fetch(`${ingest!.url}/readyz`)).status;
    expect(await ready()).toBe(503);
    expect(ingest.consumer!.state).toBe('down');

    kafka('restart');
    await eventually(ready, (s) => s === 200, 90_000);
    router = await startTestService(env, undefined, 'router');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('mistralai/mistral-nemo')) });
      expect(res.status).toBe(200);
      ids.push(res.headers.get('x-switchboard-generation-id')!);
    }
    const count = async () =>
      Number((await queryRows<{ n: string }>(ingest!.clickhouse!, 'SELECT count() AS n FROM requests WHERE generation_id IN {ids:Array(String)}', { ids }))[0].n);
    await eventually(count, (n) => n >= ids.length, 60_000);
    expect(await count()).toBe(ids.length);
    expect(ingest.consumer!.restarts).toBeGreaterThan(0);
  }, 300_000);
});
