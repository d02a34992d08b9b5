// Kafka clients for both sides of the topic, with kafkajs' logs routed into pino.
import { promisify } from 'node:util';
import { constants, gzip, unzip } from 'node:zlib';
import kafkajs, { Kafka, logLevel as KafkaLogLevel, type Admin, type ITopicConfig } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { REQUESTS_TOPIC } from './event.ts';

export const DLQ_TOPIC = 'switchboard.dlq.v1';
export const SIGNALS_TOPIC = 'switchboard.signals.v1';
export const SPEND_TOPIC = 'switchboard.spend.v1';
export const KEYS_TOPIC = 'switchboard.keys.v1';

/** Topic names, with an optional prefix so several deployments (or test runs) can share one cluster. */
export interface Topics {
  requests: string;
  dlq: string;
  signals: string;
  spend: string;
  keys: string;
}

export function topicNames(prefix = ''): Topics {
  return { requests: prefix + REQUESTS_TOPIC, dlq: prefix + DLQ_TOPIC, signals: prefix + SIGNALS_TOPIC, spend: prefix + SPEND_TOPIC, keys: prefix + KEYS_TOPIC };
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

// Gzip at its fastest level: at the default level, compressing cost the producer more CPU per event than
// anything else it does (4.8 against 2.2 µs per event at level 1, bench/ingest/stages.ts), for 8.4×
// compression against 6.8× on our NDJSON. Still plain gzip on the wire: any consumer reads it.
const gzipFast = promisify(gzip);
const gunzip = promisify(unzip);
// (kafkajs is CommonJS: its codec table is not a named export under Node's ESM loader.)
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.GZIP] = () => ({
  compress: (encoder: { buffer: Buffer }) => gzipFast(encoder.buffer, { level: constants.Z_BEST_SPEED }),
  decompress: (buffer: Buffer) => gunzip(buffer),
});

export function createKafka(brokers: readonly string[], clientId: string, logger: Logger): Kafka {
  const log = logger.child({ part: 'kafka' });
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // kafkajs retries forever-ish by default; callers decide what to do when the broker is away.
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? 'info']({ ...rest, namespace: entry.namespace }, message);
      },
  });
}

/** Create the topics if missing. Idempotent; several processes may race to do it. */
export async function ensureTopics(kafka: Kafka, topics: Topics, partitions: number): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted: ITopicConfig[] = [
      { topic: topics.requests, numPartitions: partitions, replicationFactor: -1 },
      { topic: topics.dlq, numPartitions: 1, replicationFactor: -1 },
      { topic: topics.signals, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: topics.spend, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: topics.keys, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) {
      try {
        await admin.createTopics({ topics: wanted, waitForLeaders: true });
      } catch (err) {
        if (!/already exists/i.test((err as Error).message)) throw err;
      }
    }
  } finally {
    await admin.disconnect();
  }
}
