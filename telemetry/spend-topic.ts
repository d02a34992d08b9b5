// The compacted topic switchboard.spend.v1: how the routers of a fleet share spend in cluster mode, so a
// key's limit holds across routers and restarts (the figures and their rules: spend-fleet.ts). Every
// router reads the topic from its beginning before it serves.
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { SpendFleet, type SpendSource } from './spend-fleet.ts';

const START_BOUND_MS = 15_000;

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
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();
  published = 0;

  constructor(
    kafka: Kafka,
    ledger: SpendSource,
    private readonly opts: SpendChannelOptions,
    private readonly log: Logger,
  ) {
    this.fleet = new SpendFleet(ledger, opts.reservationTtlMs);
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
    this.admin = kafka.admin();
    this.consumer = kafka.consumer({ groupId: `switchboard-spend-${this.fleet.routerId}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  }

  get rejected(): number {
    return this.fleet.rejected;
  }

  /** Reads the topic up to where it stood at start, so the first request already sees the fleet's spend. */
  async start(): Promise<void> {
    await this.producer.connect();
    await this.admin.connect();
    const ends = new Map((await this.admin.fetchTopicOffsets(this.opts.topic)).map((p) => [p.partition, Number(p.high)]));
    await this.admin.disconnect();
    const pending = new Set([...ends].filter(([, high]) => high > 0).map(([p]) => p));
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    if (pending.size === 0) caughtUp();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) this.fleet.take(m.value === null ? null : m.value.toString('utf8'));
        if (Number(batch.lastOffset()) + 1 >= (ends.get(batch.partition) ?? 0) && pending.delete(batch.partition) && pending.size === 0) caughtUp();
      },
    });
    // A compacted partition may end in a gap; never hold a start for it past the bound.
    let bound: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => (bound = setTimeout(r, START_BOUND_MS)));
    await Promise.race([ready, late.then(() => this.log.warn({ partitions: [...pending] }, 'spend channel: start without reading the whole topic'))]);
    clearTimeout(bound);
    this.timer = setInterval(() => void this.publish(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Publishes what is left, then leaves. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.publish();
    await this.consumer.disconnect();
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
