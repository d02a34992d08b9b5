// The compacted topic switchboard.spend.v1: how the routers of a fleet share spend, so a key's limit holds
// across routers and restarts in cluster mode. Each router process (a random id per start) publishes its
// own figures per key — cumulative settled USD and USD reserved by requests in flight — keyed
// `router|key`, so compaction keeps the latest of each; every router reads the topic from its beginning.
// A key's spend is the sum over every router that ever served it (a restarted router is a new id and its
// predecessor's figures stay counted). Reservations of a router that went silent stop counting after the
// longest a request can run.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';

export const SpendReportSchema = Type.Object(
  {
    v: Type.Literal(1),
    router: Type.String({ minLength: 1, maxLength: 64 }),
    key_id: Type.String({ minLength: 1, maxLength: 128 }),
    settled_usd: Type.Number({ minimum: 0 }),
    reserved_usd: Type.Number({ minimum: 0 }),
    at: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type SpendReport = Static<typeof SpendReportSchema>;
const check = TypeCompiler.Compile(SpendReportSchema);

const START_BOUND_MS = 15_000;

/** What the channel needs of a router's ledger (router/auth/spend.ts). */
export interface SpendSource {
  useFleet(fleet: (keyId: string) => number): void;
  own(keyId: string): { settled: number; reserved: number };
  takeChanged(): string[];
  markChanged(keys: readonly string[]): void;
}

export interface SpendChannelOptions {
  topic: string;
  /** How often changed figures are published. */
  intervalMs: number;
  /** Reservations older than this are a silent router's: no longer counted. */
  reservationTtlMs: number;
}

export class SpendChannel {
  readonly routerId = `r-${randomBytes(6).toString('hex')}`;
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  /** key → router → its latest report. */
  private readonly fleet = new Map<string, Map<string, SpendReport>>();
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();
  rejected = 0;
  published = 0;

  constructor(
    kafka: Kafka,
    private readonly ledger: SpendSource,
    private readonly opts: SpendChannelOptions,
    private readonly log: Logger,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
    this.admin = kafka.admin();
    this.consumer = kafka.consumer({ groupId: `switchboard-spend-${this.routerId}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  }

  /** Reads the topic up to where it stood at start, so the first request already sees the fleet's spend. */
  async start(): Promise<void> {
    this.ledger.useFleet((key) => this.fleetSpend(key));
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
        for (const m of batch.messages) this.take(m.value);
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

  private fleetSpend(key: string, now = Date.now()): number {
    const byRouter = this.fleet.get(key);
    if (!byRouter) return 0;
    let usd = 0;
    for (const r of byRouter.values()) usd += r.settled_usd + (now - r.at < this.opts.reservationTtlMs ? r.reserved_usd : 0);
    return usd;
  }

  private take(value: Buffer | null): void {
    if (value === null) return;
    let report: unknown;
    try {
      report = JSON.parse(value.toString('utf8'));
    } catch {
      report = undefined;
    }
    if (!check.Check(report)) {
      this.rejected++;
      return;
    }
    if (report.router === this.routerId) return;
    let byRouter = this.fleet.get(report.key_id);
    if (!byRouter) this.fleet.set(report.key_id, (byRouter = new Map()));
    byRouter.set(report.router, report);
  }

  private publish(): Promise<void> {
    // One send at a time, in order: a later figure never overtakes an earlier one.
    return (this.publishing = this.publishing.then(async () => {
      const keys = this.ledger.takeChanged();
      if (keys.length === 0) return;
      const at = Date.now();
      const messages = keys.map((key) => {
        const own = this.ledger.own(key);
        const report: SpendReport = { v: 1, router: this.routerId, key_id: key, settled_usd: own.settled, reserved_usd: own.reserved, at };
        return { key: `${this.routerId}|${key}`, value: JSON.stringify(report) };
      });
      try {
        await this.producer.send({ topic: this.opts.topic, acks: -1, messages });
        this.published += messages.length;
      } catch (err) {
        // Sent again with the next change: the figures are cumulative, the latest is all that matters.
        this.ledger.markChanged(keys);
        this.log.warn({ err: (err as Error).message, keys: keys.length }, 'spend figures not published; retrying');
      }
    }));
  }
}
