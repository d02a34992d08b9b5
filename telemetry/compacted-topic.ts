// Reading a compacted topic the way the routers' shared state needs it: from its beginning, in a consumer
// group of this process's own (every reader sees every message), resolving once what the topic held at the
// start has been read, so the first request already sees it; then following it.
import { randomBytes } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../core/logger.ts';

const START_BOUND_MS = 15_000;

export async function followCompacted(kafka: Kafka, topic: string, groupPrefix: string, onMessage: (m: KafkaMessage) => void, log: Logger): Promise<Consumer> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, high]) => high > 0).map(([p]) => p));
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => (caughtUp = r));
  if (pending.size === 0) caughtUp();
  const consumer = kafka.consumer({ groupId: `${groupPrefix}-${randomBytes(6).toString('hex')}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) onMessage(m);
      if (Number(batch.lastOffset()) + 1 >= (ends.get(batch.partition) ?? 0) && pending.delete(batch.partition) && pending.size === 0) caughtUp();
    },
  });
  // A compacted partition may end in a gap; never hold a start for it past the bound.
  let bound: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => (bound = setTimeout(r, START_BOUND_MS)));
  await Promise.race([ready, late.then(() => log.warn({ topic, partitions: [...pending] }, 'start without reading the whole topic'))]);
  clearTimeout(bound);
  return consumer;
}
