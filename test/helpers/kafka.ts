import { randomBytes } from 'node:crypto';
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
