// Telemetry through a real Kafka broker into ClickHouse (chDB): two routers, one ingest consumer group.
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../store/clickhouse.ts';
import { createLogger } from '../../core/logger.ts';
import { IngestConsumer } from '../../ingest/consumer.ts';
import type { Service } from '../../service/server.ts';
import { topicNames } from '../../telemetry/kafka.ts';
import { REPLAY_HEADER } from '../../telemetry/kafka-sink.ts';
import { requestEvent } from '../fixtures/events.ts';
import { kafkaOrSkip, testPrefix, ownTopicsEnv } from '../helpers/kafka.ts';
import { auth, chatBody, eventually, sseData, startTestService } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const prefix = testPrefix('pipeline');
const topics = topicNames(prefix);
const kafkaEnv = ownTopicsEnv(brokers, prefix);

let ingest: Service;
const routers: Service[] = [];
let kafka: Kafka;

beforeAll(async () => {
  if (!brokers) return;
  ingest = await startTestService(kafkaEnv, undefined, 'ingest');
  for (let i = 0; i < 2; i++) routers.push(await startTestService(kafkaEnv, undefined, 'router'));
  kafka = new Kafka({ clientId: 'test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
});
afterAll(async () => {
  for (const r of routers) await r.close();
  await ingest?.close();
});

const count = async (table: string, where: string, params: Record<string, unknown>) =>
  Number((await queryRows<{ n: string }>(ingest.clickhouse!, `SELECT count() AS n FROM ${table} WHERE ${where}`, params))[0].n);

describe.skipIf(!brokers)('telemetry through Kafka', () => {
  it('N requests through two routers: exactly N request rows, every attempt row, and the sums the clients saw', async () => {
    // One provider fails, so some requests make two attempts.
    for (const r of routers) r.simulator!.faults.set({ provider: 'groq', mode: 'error', status: 500, rate: 0.5 });
    const N = 300;
    const seen: { id: string; prompt: number; completion: number; cost: number }[] = [];
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const r = routers[i % 2];
        const stream = i % 4 === 0;
        const res = await fetch(`${r.url}/v1/chat/completions`, {
          method: 'POST',
          headers: auth(),
          body: JSON.stringify(chatBody('meta-llama/llama-3.3-70b-instruct', { stream, provider: { order: ['groq'] }, max_tokens: 5 + (i % 30) })),
        });
        expect(res.status).toBe(200);
        const text = await res.text();
        const usage = stream ? JSON.parse(sseData(text).slice(-2)[0]).usage : JSON.parse(text).usage;
        seen.push({
          id: res.headers.get('x-switchboard-generation-id')!,
          prompt: usage.prompt_tokens,
          completion: usage.completion_tokens,
          cost: usage.cost_details.upstream_inference_cost,
        });
      }),
    );
    const ids = seen.map((s) => s.id);
    const emittedAttempts = routers.reduce((a, r) => a + r.bus.accepted, 0) - N;
    expect(emittedAttempts).toBeGreaterThan(N); // failover happened
    await eventually(
      () => count('attempts', 'generation_id IN {ids:Array(String)}', { ids }),
      (n) => n >= emittedAttempts,
    );
    expect(await count('requests', 'generation_id IN {ids:Array(String)}', { ids })).toBe(N);
    expect(await count('attempts', 'generation_id IN {ids:Array(String)}', { ids })).toBe(emittedAttempts);
    const [sums] = await queryRows<{ p: string; c: string; cost: number; kafka: string }>(
      ingest.clickhouse!,
      'SELECT sum(tokens_prompt) AS p, sum(tokens_completion) AS c, sum(cost_usd) AS cost, countIf(kafka_offset_next > 0) AS kafka FROM requests WHERE generation_id IN {ids:Array(String)}',
      { ids },
    );
    expect(Number(sums.p)).toBe(seen.reduce((a, s) => a + s.prompt, 0));
    expect(Number(sums.c)).toBe(seen.reduce((a, s) => a + s.completion, 0));
    expect(sums.cost).toBeCloseTo(
      seen.reduce((a, s) => a + s.cost, 0),
      12,
    );
    expect(Number(sums.kafka)).toBe(N);
    // And the aggregates fed from those rows hold the same totals (integer nano-dollars: exact).
    const [raw] = await queryRows(
      ingest.clickhouse!,
      "SELECT count() AS n, sum(tokens_completion) AS c, sum(toUInt64(round(cost_usd * 1e9))) AS cost FROM requests WHERE account_id = 'acct_dev'",
    );
    const [agg] = await queryRows(
      ingest.clickhouse!,
      "SELECT sum(requests) AS n, sum(tokens_completion) AS c, sum(cost_nusd) AS cost FROM usage_daily_account WHERE account_id = 'acct_dev'",
    );
    expect(Object.values(agg as object).map(Number)).toEqual(Object.values(raw as object).map(Number));
    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_ingest_consumer_lag\{partition="\d+"\} \d+/);
    expect(metrics).toMatch(/switchboard_ingest_batch_messages_count [1-9]/);
  });

  it('poison messages go to the DLQ with their reasons; every valid message is ingested', async () => {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const valid = Array.from({ length: 50 }, (_, i) => requestEvent({ generation_id: `gen-poison-${i}`, account_id: 'acct_poison', ts: Date.now() }));
    const { cost_usd: _c, ...missing } = valid[0];
    const poison = [
      Buffer.from([0xff, 0x00, 0x13, 0x37, 0xfe]),
      Buffer.from('{"v":1, "kind": "request", "event_id": '),
      Buffer.from(JSON.stringify({ ...valid[0], v: 99 })),
      Buffer.from(JSON.stringify({ ...missing, event_id: randomUUID() })),
      Buffer.from(JSON.stringify({ ...valid[0], event_id: randomUUID(), prompt: 'text must never be stored' })),
    ];
    const messages = [...valid.map((e) => ({ key: e.account_id, value: JSON.stringify(e) })), ...poison.map((value, i) => ({ key: `poison-${i}`, value }))];
    await producer.send({ topic: topics.requests, messages: messages.sort(() => Math.random() - 0.5) });
    await producer.disconnect();

    const dlq: { reason: string; value: Buffer | null }[] = [];
    const reader = kafka.consumer({ groupId: `${prefix}dlq-reader` });
    await reader.connect();
    await reader.subscribe({ topic: topics.dlq, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void dlq.push({ reason: String(message.headers?.reason), value: message.value }) });
    await eventually(
      async () => dlq.length,
      (n) => n >= poison.length,
    );
    await reader.disconnect();
    expect(dlq).toHaveLength(poison.length);
    const reasons = dlq.map((d) => d.reason).join('\n');
    expect(reasons).toMatch(/invalid JSON/);
    expect(reasons).toMatch(/unsupported event version 99/);
    expect(reasons).toMatch(/cost_usd/);
    expect(reasons).toMatch(/\/prompt/);
    expect(dlq.map((d) => d.value?.toString('latin1')).sort()).toEqual(poison.map((p) => p.toString('latin1')).sort());
    await eventually(
      () => count('requests', "account_id = 'acct_poison'", {}),
      (n) => n >= 50,
    );
    expect(await count('requests', "account_id = 'acct_poison'", {})).toBe(50);
    expect(await (await fetch(`${ingest.url}/metrics`)).text()).toMatch(/switchboard_ingest_dead_letters_total\{reason="[^"]+"\} [1-9]/);
  });

  it("a copy re-sent from a router's spool (the broker had the original) is ingested once, by event id", async () => {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const original = requestEvent({ generation_id: 'gen-replayed', account_id: 'acct_replay', ts: Date.now() });
    const sameBatch = { ...original, event_id: randomUUID(), generation_id: 'gen-replayed-same-batch' };
    const message = (e: typeof original, replay: boolean) => ({ key: e.account_id, value: JSON.stringify(e), headers: replay ? { [REPLAY_HEADER]: '1' } : undefined });
    await producer.send({ topic: topics.requests, messages: [message(original, false), message(sameBatch, false), message(sameBatch, true)] });
    await eventually(
      () => count('requests', "account_id = 'acct_replay'", {}),
      (n) => n >= 2,
    );
    await producer.send({ topic: topics.requests, messages: [message(original, true)] });
    const marker = { ...original, event_id: randomUUID(), generation_id: 'gen-replay-marker' };
    await producer.send({ topic: topics.requests, messages: [message(marker, false)] });
    await eventually(
      () => count('requests', "account_id = 'acct_replay'", {}),
      (n) => n >= 3,
    );
    await producer.disconnect();
    expect(await count('requests', "generation_id = 'gen-replayed'", {})).toBe(1);
    expect(await count('requests', "generation_id = 'gen-replayed-same-batch'", {})).toBe(1);
    expect(await count('requests', "account_id = 'acct_replay'", {})).toBe(3);
  });

  it('two consumers in one group share the partitions and together ingest everything once', async () => {
    const second = new IngestConsumer(kafka, ingest.clickhouse!, { groupId: `${prefix}ingest`, topics, lingerMs: 50, maxRows: 100_000 }, createLogger('silent'), {
      onInsert: () => undefined,
      onInsertError: () => undefined,
      onBatch: () => undefined,
      onLag: () => undefined,
      onDeadLetter: () => undefined,
      onDuplicate: () => undefined,
    });
    await second.start();
    // Wait for the rebalance to give the newcomer partitions, then produce across all of them.
    await new Promise((r) => setTimeout(r, 4000));
    const before = { first: ingest.consumer!.ingested, second: second.ingested };
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const events = Array.from({ length: 2000 }, (_, i) => requestEvent({ generation_id: `gen-group-${i}`, account_id: `acct_group_${i % 97}`, ts: Date.now() }));
    await producer.send({ topic: topics.requests, messages: events.map((e) => ({ key: e.account_id, value: JSON.stringify(e) })) });
    await producer.disconnect();
    await eventually(
      () => count('requests', "generation_id LIKE 'gen-group-%'", {}),
      (n) => n >= 2000,
    );
    await new Promise((r) => setTimeout(r, 1500)); // time for any duplicate to land, if there were one
    expect(await count('requests', "generation_id LIKE 'gen-group-%'", {})).toBe(2000);
    expect(Number((await queryRows<{ n: string }>(ingest.clickhouse!, "SELECT uniqExact(event_id) AS n FROM requests WHERE generation_id LIKE 'gen-group-%'"))[0].n)).toBe(2000);
    expect(ingest.consumer!.ingested - before.first).toBeGreaterThan(0);
    expect(second.ingested - before.second).toBeGreaterThan(0);
    await second.stop();
  });
});
