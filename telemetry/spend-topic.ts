// The compacted topic switchboard.spend.v1: how the routers of a fleet share spend in cluster mode, so a
// key's limit holds across routers and restarts (the figures and their rules: spend-fleet.ts). Every
// router reads the topic from its beginning before it serves.
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { followCompacted } from './compacted-topic.ts';
import { SpendFleet, type SpendSource } from './spend-fleet.ts';

export interface SpendChannelOptions {
  topic: string;
  /** How often changed figures are published. */
  intervalMs: number;
  /** Reservations older than this are a silent router's: no longer counted. */
  reservationTtlMs: number;
}

export class SpendChannel {
  private readonly fleet: SpendFleet;
  private readonly producer: Producer;
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();
  published = 0;

  constructor(
    private readonly kafka: Kafka,
    ledger: SpendSource,
    private readonly opts: SpendChannelOptions,
    private readonly log: Logger,
  ) {
    this.fleet = new SpendFleet(ledger, opts.reservationTtlMs);
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
  }

  get rejected(): number {
    return this.fleet.rejected;
  }

  /** Reads the topic up to where it stood at start, so the first request already sees the fleet's spend. */
  async start(): Promise<void> {
    await this.producer.connect();
    this.consumer = await followCompacted(
      this.kafka,
      this.opts.topic,
      `switchboard-spend-${this.fleet.routerId}`,
      (m) => this.fleet.take(m.value === null ? null : m.value.toString('utf8')),
      this.log,
    );
    this.timer = setInterval(() => void this.publish(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Publishes what is left, then leaves. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.publish();
    await this.consumer?.disconnect();
    await this.producer.disconnect();
  }

  private publish(): Promise<void> {
    // One send at a time, in order: a later figure never overtakes an earlier one.
    return (this.publishing = this.publishing.then(async () => {
      const { keys, messages } = this.fleet.changedReports();
      if (keys.length === 0) return;
      try {
        await this.producer.send({ topic: this.opts.topic, acks: -1, messages: messages.map(([key, value]) => ({ key, value })) });
        this.published += messages.length;
      } catch (err) {
        this.fleet.unsent(keys);
        this.log.warn({ err: (err as Error).message, keys: keys.length }, 'spend figures not published; retrying');
      }
    }));
  }
}
