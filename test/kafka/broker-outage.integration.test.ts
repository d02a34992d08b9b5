// The broker stopped for 20 s during a steady stream, then started again: no request fails or slows beyond
// the normal, events wait in the router's disk spool and are delivered later, none lost or doubled; ingest
// is not ready while its consumer is down and comes back by itself.
import { afterAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../store/clickhouse.ts';
import type { Service } from '../../service/server.ts';
import { kafkaOrSkip, ownBroker, testPrefix, ownTopicsEnv } from '../helpers/kafka.ts';
import { auth, chatBody, eventually, startTestService } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const { kafka, start } = ownBroker('outage', 19_700 + (process.pid % 200));

let router: Service | undefined;
let ingest: Service | undefined;
afterAll(async () => {
  await router?.close();
  await ingest?.close();
  if (brokers) kafka('stop');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];

describe.skipIf(!brokers)('broker outage', () => {
  it('requests keep flowing at normal latency, the spool fills and drains, nothing is lost or doubled', async () => {
    // A broker of this test's own: stopping the shared one would disturb the other suites.
    const own = start();
    const prefix = testPrefix('outage');
    const env = {
      ...ownTopicsEnv(own, prefix),
      RATE_LIMIT_PER_MINUTE: '1000000',
      SIMULATOR_LATENCY_SCALE: '0',
    };
    ingest = await startTestService(env, undefined, 'ingest');
    router = await startTestService(env, undefined, 'router');

    const phase = { name: 'before' as 'before' | 'outage' | 'after' };
    const latencies: Record<string, number[]> = { before: [], outage: [], after: [] };
    const statuses: number[] = [];
    const ids: string[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        await Promise.all(
          Array.from({ length: 5 }, async () => {
            const t0 = performance.now();
            const res = await fetch(`${router!.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('mistralai/mistral-nemo')) });
            await res.arrayBuffer();
            latencies[phase.name].push(performance.now() - t0);
            statuses.push(res.status);
            ids.push(res.headers.get('x-switchboard-generation-id')!);
          }),
        );
        await sleep(50);
      }
    })();

    const ready = async (s: Service) => (await fetch(`${s.url}/readyz`)).status;
    await eventually(
      () => ready(ingest!),
      (status) => status === 200,
      60_000,
    );
    await sleep(3000);
    phase.name = 'outage';
    kafka('stop');
    const stoppedAt = Date.now();
    // The consumer loses the broker: ingest says so instead of claiming to be ready.
    await eventually(
      () => ready(ingest!),
      (status) => status === 503,
      60_000,
    );
    await sleep(Math.max(0, 20_000 - (Date.now() - stoppedAt)));
    expect(router.kafkaSink!.spool.bytes).toBeGreaterThan(0); // the spool is holding the outage's events
    const spooledDuringOutage = router.kafkaSink!.spooled;
    kafka('restart');
    phase.name = 'after';
    // No manual action: the consumer comes back by itself (restarted with backoff if kafkajs gave up).
    await eventually(
      () => ready(ingest!),
      (status) => status === 200,
      90_000,
    );
    await sleep(4000);
    running = false;
    await load;

    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(latencies.outage.length).toBeGreaterThan(100);
    // "Normal" is what the same stream saw before the outage, with room for a slow, shared machine.
    expect(p99(latencies.outage)).toBeLessThan(p99(latencies.before) * 3 + 25);
    expect(spooledDuringOutage).toBeGreaterThan(0);

    await eventually(
      async () => router!.kafkaSink!.spool.bytes,
      (b) => b === 0,
      60_000,
    );
    expect(router.kafkaSink!.replayed).toBe(router.kafkaSink!.spooled);
    expect(router.kafkaSink!.dropped).toBe(0);
    const attemptsEmitted = router.bus.accepted - ids.length;
    const count = async (table: string) =>
      Number((await queryRows<{ n: string }>(ingest!.clickhouse!, `SELECT count() AS n FROM ${table} WHERE generation_id IN {ids:Array(String)}`, { ids }))[0].n);
    await eventually(
      () => count('requests'),
      (n) => n >= ids.length,
      60_000,
    );
    await sleep(1500);
    expect(await count('requests')).toBe(ids.length);
    expect(await count('attempts')).toBe(attemptsEmitted);
    // Lag is the broker's figure (end of each partition minus the group's committed offset): it drains to 0.
    await eventually(
      async () => [...(ingest!.consumer!.lag?.values() ?? [1])],
      (lags) => lags.every((n) => n === 0),
      60_000,
    );
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_telemetry_spooled_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^switchboard_telemetry_spool_bytes 0$/m);
  }, 300_000);
});
