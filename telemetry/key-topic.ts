// The compacted topic switchboard.keys.v1 in cluster mode: the key authority publishes every key's latest
// record and every organisation's policy (keyed `key:<id>` / `org:<id>`, so compaction keeps the latest of
// each), and every router reads it from its beginning before it serves, then follows it: a revocation
// reaches every router as soon as the broker hands it on (one fetch; the authority's answer waits for the
// broker's acknowledgement).
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { decodeKeyMessage, encodeKeyMessage, keyMessageKey, type KeyMessage } from '../governance/key-record.ts';
import { followCompacted } from './compacted-topic.ts';

export class KeyTopicProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  }

  /** Sends the messages and waits for every replica's acknowledgement; throws when the broker cannot take them. */
  async publish(messages: readonly KeyMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await (this.connected ??= this.producer.connect().catch((err) => {
      this.connected = undefined;
      throw err;
    }));
    await this.producer.send({ topic: this.topic, acks: -1, messages: messages.map((m) => ({ key: keyMessageKey(m), value: encodeKeyMessage(m) })) });
  }

  async stop(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** Reads the topic into `apply` (resolving once caught up); a message that does not decode is logged and skipped. */
export function followKeys(kafka: Kafka, topic: string, apply: (m: KeyMessage) => void, log: Logger): Promise<Consumer> {
  return followCompacted(
    kafka,
    topic,
    'switchboard-keys',
    (m) => {
      const d = decodeKeyMessage(m.value);
      if (d.ok) apply(d.message);
      else if (d.reason !== 'tombstone') log.warn({ offset: m.offset, reason: d.reason }, 'key channel message skipped');
    },
    log,
  );
}
