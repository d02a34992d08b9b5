import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

/** The broker for Kafka suites, or why there is none (global-setup.ts decides, CI=true never skips). */
export function kafkaOrSkip(): { brokers: string; skip: string } {
  const brokers = inject('kafkaBrokers');
  const skip = inject('kafkaSkipReason');
  if (!brokers) console.warn(`Kafka suite skipped: ${skip}`);
  return { brokers, skip };
}

/** A topic prefix of its own, so test files sharing the broker never read each other's events. */
export const testPrefix = (name: string) => `t-${name}-${randomBytes(3).toString('hex')}.`;

/** A suite's own topics and ingest group on `brokers` (under `prefix`), with ingest inserting every 50 ms. */
export const ownTopicsEnv = (brokers: string, prefix: string) => ({
  KAFKA_BROKERS: brokers,
  KAFKA_TOPIC_PREFIX: prefix,
  INGEST_GROUP_ID: `${prefix}ingest`,
  INGEST_LINGER_MS: '50',
});

/**
 * A broker of a test's own (project script, its own state dir and port), for tests that stop and start it:
 * stopping the shared one would disturb the other suites. `kafka('start' | 'stop' | 'restart')`.
 */
export function ownBroker(name: string, port: number): { kafka: (cmd: string) => string; start: () => string } {
  const script = join(import.meta.dirname, '..', '..', 'scripts', 'kafka.sh');
  const env = { ...process.env, KAFKA_STATE_DIR: mkdtempSync(join(tmpdir(), `switchboard-kafka-${name}-`)) };
  const kafka = (cmd: string) => execFileSync(script, cmd === 'start' ? [cmd, String(port)] : [cmd], { env, encoding: 'utf8', timeout: 120_000 });
  return { kafka, start: () => /KAFKA_BROKERS=(\S+)/.exec(kafka('start'))![1] };
}
