// The data role: ingest and analytics in one process on chDB (a single node without a ClickHouse server),
// behind a router over Kafka: requests are consumed into its ClickHouse, its API answers for them, and it
// computes the signals and the revealed-preference tables it publishes to the router.
import { afterAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import { kafkaOrSkip, testPrefix, ownTopicsEnv } from '../helpers/kafka.ts';
import { auth, chatBody, eventually, startTestService } from '../helpers/service.ts';
import { simulatePopulation } from '../../dev/population/simulate.ts';
import { insertEvents } from '../../store/rows.ts';
import { POPULATION_MODELS } from '../fixtures/population.ts';

const { brokers } = kafkaOrSkip();
const prefix = testPrefix('data');
const env = ownTopicsEnv(brokers, prefix);

const services: Service[] = [];
afterAll(async () => {
  for (const s of services.reverse()) await s.close();
});

describe.skipIf(!brokers)('data role', () => {
  it('consumes what a router emits, answers for it, and computes signals', async () => {
    const data = await startTestService({ ...env, PREFERENCE_REFRESH_S: '2' }, undefined, 'data');
    services.push(data);
    const router = await startTestService(env, undefined, 'router');
    services.push(router);
    expect(data.consumer).toBeDefined();
    expect(data.signalComputer).toBeDefined();
    await eventually(
      async () => (await fetch(`${data.url}/readyz`)).status,
      (s) => s === 200,
      60_000,
    );

    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('mistralai/mistral-nemo')) });
      expect(res.status).toBe(200);
      ids.push(res.headers.get('x-switchboard-generation-id')!);
    }
    // The router answers no analytics; the data process answers for every request.
    expect((await fetch(`${router.url}/api/v1/generation?id=${ids[0]}`, { headers: auth() })).status).toBe(404);
    for (const id of ids)
      await eventually(
        async () => (await fetch(`${data.url}/api/v1/generation?id=${id}`, { headers: auth() })).status,
        (s) => s === 200,
        60_000,
      );
    const status = await eventually(
      async () => (await (await fetch(`${data.url}/api/v1/providers/status?model=mistralai/mistral-nemo`)).json()) as { endpoints: { signal: unknown }[] },
      (b) => b.endpoints.some((e) => e.signal !== null),
      60_000,
    );
    expect(status.endpoints.length).toBeGreaterThan(0);

    // Revealed preference reaches the router over the topic too: switchboard/auto chooses from it there.
    const pop = simulatePopulation({ catalog: data.catalog, models: POPULATION_MODELS, seed: 9, accounts: 400, days: 35, endMs: Date.now() - 3_600_000 });
    await insertEvents(data.clickhouse!, pop.events, 100_000);
    // The table of all traffic comes first, then each category's: wait for roleplay's own.
    const auto = await eventually(
      async () => {
        const r = await fetch(`${router.url}/v1/chat/completions`, {
          method: 'POST',
          headers: auth(),
          body: JSON.stringify({ ...chatBody('switchboard/auto:roleplay'), switchboard: { explain: true } }),
        });
        return { status: r.status, body: (await r.json()) as { model: string; routing?: { auto: { chosen: { model: string }; scores: { from: string } } } } };
      },
      (r) => r.status === 200 && r.body.routing?.auto.scores.from === 'category',
      90_000,
    );
    const body = auto.body;
    expect(auto.status).toBe(200);
    expect(body.routing?.auto.chosen.model).toBe(body.model);
    expect(POPULATION_MODELS).toContain(body.model);
  }, 240_000);
});
