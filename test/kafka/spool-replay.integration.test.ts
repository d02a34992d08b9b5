// The router's spool drains while the live queue is deep: a sustained load must not keep spooled batches
// waiting (nor push every live batch into the spool behind them), and stop() must leave nothing spooled
// when the broker is there. Every event reaches the topic once; spooled ones carry the replay header.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.ts';
import { REPLAY_HEADER, KafkaSink } from '../../telemetry/kafka-sink.ts';
import { createKafka, ensureTopics, topicNames } from '../../telemetry/kafka.ts';
import { decodeMessage, encodeEvents } from '../../telemetry/event.ts';
import { DiskSpool } from '../../telemetry/spool.ts';
import { requestEvent } from '../fixtures/events.ts';
import { kafkaOrSkip, testPrefix } from '../helpers/kafka.ts';
import { eventually } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const log = createLogger('silent');
const kafka = brokers ? createKafka(brokers.split(','), 'spool-replay-test', log) : undefined;
const BATCH = 100;
const sinks: KafkaSink[] = [];
afterAll(async () => {
  for (const s of sinks) await s.stop();
});

/** A sink on a topic of its own, whose spool already holds `spooledBatches` batches from an earlier outage. */
async function sinkWithSpool(name: string, spooledBatches: number) {
  const topics = topicNames(testPrefix(name));
  await ensureTopics(kafka!, topics, 4);
  const spoolDir = mkdtempSync(join(tmpdir(), `switchboard-spool-${name}-`));
  const spool = new DiskSpool(spoolDir, 1e9);
  const spooledIds: string[] = [];
  for (let b = 0; b < spooledBatches; b++) {
    const events = Array.from({ length: BATCH }, (_, i) => requestEvent({ account_id: `acct_${i % 7}` }));
    spooledIds.push(...events.map((e) => e.event_id));
    expect(spool.append([{ key: 'b0', value: encodeEvents(events), events: events.length }])).toBe(true);
  }
  const sink = new KafkaSink(kafka!, { queueMax: 10_000_000, batchMax: BATCH, lingerMs: 5, spoolDir, spoolMaxBytes: 1e9, topic: topics.requests }, log);
  sinks.push(sink);
  return { sink, topic: topics.requests, spoolDir, spooledIds };
}

const emit = (sink: KafkaSink, n: number) => {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = requestEvent({ account_id: `acct_${i % 50}` });
    ids.push(e.event_id);
    sink.emit(e);
  }
  return ids;
};

/** Every event on the topic, with whether its message carried the replay header. */
async function readTopic(topic: string, expected: number): Promise<{ id: string; replay: boolean }[]> {
  const out: { id: string; replay: boolean }[] = [];
  const consumer = kafka!.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const replay = message.headers?.[REPLAY_HEADER] !== undefined;
      for (const { result } of decodeMessage(message.value)) if (result.ok) out.push({ id: result.event.event_id, replay });
    },
  });
  try {
    await eventually(
      async () => out.length,
      (n) => n >= expected,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 500)); // a copy too many would arrive now
  } finally {
    await consumer.disconnect();
  }
  return out;
}

function expectOnce(onTopic: { id: string; replay: boolean }[], liveIds: string[], spooledIds: string[]) {
  expect(onTopic.length).toBe(liveIds.length + spooledIds.length);
  expect(new Set(onTopic.map((e) => e.id)).size).toBe(onTopic.length);
  const replayed = new Set(onTopic.filter((e) => e.replay).map((e) => e.id));
  for (const id of spooledIds) expect(replayed.has(id)).toBe(true);
}

describe.skipIf(!brokers)('spool replay under a deep live queue', () => {
  it('stop() sends the spool and the whole queue when the broker is there, however deep the queue', async () => {
    const { sink, topic, spoolDir, spooledIds } = await sinkWithSpool('stop', 5);
    const liveIds = emit(sink, BATCH * 40);
    sink.start();
    await sink.stop();

    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.ndjson'))).toEqual([]);
    expect(sink.sent).toBe(liveIds.length + spooledIds.length);
    expect(sink.dropped).toBe(0);
    expectOnce(await readTopic(topic, liveIds.length + spooledIds.length), liveIds, spooledIds);
  }, 120_000);

  it('drains the spool while a steady load keeps the queue many batches deep', async () => {
    const { sink, topic, spooledIds } = await sinkWithSpool('load', 20);
    const liveIds: string[] = [];
    // The load tops the queue up whenever it falls under 20 batches: it stays deep whatever the sender's pace.
    let loading = true;
    let shallowest = Infinity;
    const load = (async () => {
      while (loading) {
        if (sink.sent > 0 && sink.spool.batches > 0) shallowest = Math.min(shallowest, sink.bus.depth);
        if (sink.bus.depth < BATCH * 20) liveIds.push(...emit(sink, BATCH * 20));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await new Promise((r) => setTimeout(r, 5));
    sink.start();
    await eventually(
      async () => sink.spool.batches,
      (n) => n === 0,
      60_000,
    );
    loading = false;
    await load;
    // The precondition of the old stall held throughout: once the broker was reached, the queue never fell
    // to four batches while the spool still had something to replay. (Before that, the sender spools it.)
    expect(shallowest).toBeGreaterThan(BATCH * 4);
    await sink.stop();

    expect(sink.replayed).toBe(spooledIds.length + sink.spooled);
    expect(sink.dropped).toBe(0);
    expectOnce(await readTopic(topic, liveIds.length + spooledIds.length), liveIds, spooledIds);
  }, 180_000);
});
