// Cluster-mode emission: events wait in a bounded in-memory queue (emit never blocks), a sender drains it
// into Kafka in compressed batches keyed by account (one account's events stay in order), with the
// idempotent producer. When the broker is away, batches go to the disk spool and are replayed, oldest
// first, once it is back; replayed messages carry a header so ingest can drop copies the broker did get.
import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { MemoryBus, type TelemetrySink } from './bus.ts';
import { createHash } from 'node:crypto';
import { encodeEvents, type TelemetryEvent } from './event.ts';
import { DiskSpool, type SpooledMessage } from './spool.ts';

export const REPLAY_HEADER = 'sb-replay';
/** Message keys per topic: enough to spread over many partitions, few enough to pack events densely. */
const KEY_BUCKETS = 64;

export interface KafkaSinkOptions {
  queueMax: number;
  batchMax: number;
  lingerMs: number;
  spoolDir: string;
  spoolMaxBytes: number;
  topic: string;
}

const countEvents = (messages: SpooledMessage[]) => messages.reduce((n, m) => n + m.events, 0);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class KafkaSink implements TelemetrySink {
  readonly bus: MemoryBus;
  readonly spool: DiskSpool;
  private producer: Producer;
  private connected = false;
  private running = false;
  private loop: Promise<void> | undefined;
  sent = 0;
  spooled = 0;
  replayed = 0;
  /** Events lost past the spool's limit (queue drops are counted by the bus). */
  spoolDropped = 0;

  constructor(
    kafka: Kafka,
    private readonly opts: KafkaSinkOptions,
    private readonly log: Logger,
  ) {
    this.bus = new MemoryBus(opts.queueMax);
    this.spool = new DiskSpool(opts.spoolDir, opts.spoolMaxBytes);
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
  }

  emit(event: TelemetryEvent): void {
    this.bus.emit(event);
  }

  get dropped(): number {
    return this.bus.dropped + this.spoolDropped;
  }

  start(): void {
    this.running = true;
    this.loop ??= this.run();
  }

  /** Send everything queued and spooled (or spool it when the broker is away), then disconnect. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.connecting;
    while (this.bus.depth > 0 || (this.connected && this.spool.batches > 0)) await this.deliver(this.toMessages(this.bus.take(this.opts.batchMax)));
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
  }

  private readonly bucketOf = new Map<string, string>();

  /** Account → one of KEY_BUCKETS message keys (cached: the same few thousand accounts recur). */
  private bucket(account: string): string {
    let b = this.bucketOf.get(account);
    if (b === undefined) {
      b = `b${createHash('sha1').update(account).digest().readUInt16BE(0) % KEY_BUCKETS}`;
      if (this.bucketOf.size > 100_000) this.bucketOf.clear();
      this.bucketOf.set(account, b);
    }
    return b;
  }

  private toMessages(events: TelemetryEvent[]): SpooledMessage[] {
    const groups = new Map<string, TelemetryEvent[]>();
    for (const e of events) {
      const key = this.bucket(e.account_id);
      const g = groups.get(key);
      if (g) g.push(e);
      else groups.set(key, [e]);
    }
    return [...groups].map(([key, group]) => ({ key, value: encodeEvents(group), events: group.length }));
  }

  /** Connection attempts run beside the sender, so the queue keeps draining (to the spool) meanwhile. */
  private connecting: Promise<void> | undefined;
  private nextConnectAt = 0;

  private tryConnect(): void {
    if (this.connected || this.connecting || Date.now() < this.nextConnectAt) return;
    this.connecting = this.producer
      .connect()
      .then(() => {
        this.connected = true;
        this.log.info('kafka connected');
      })
      .catch((err) => {
        this.nextConnectAt = Date.now() + 1000;
        this.log.warn({ err: (err as Error).message }, 'kafka unreachable: telemetry goes to the disk spool');
      })
      .finally(() => (this.connecting = undefined));
  }

  private async send(replayed: SpooledMessage[], live: SpooledMessage[]): Promise<void> {
    const headers = { [REPLAY_HEADER]: '1' };
    await this.producer.send({
      topic: this.opts.topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [...replayed.map((m) => ({ key: m.key, value: m.value, headers })), ...live.map((m) => ({ key: m.key, value: m.value }))],
    });
  }

  private brokerFailed(err: unknown): void {
    this.connected = false;
    this.nextConnectAt = Date.now() + 500;
    this.log.warn({ err: (err as Error).message }, 'kafka send failed: spooling');
  }

  private toSpool(messages: SpooledMessage[]): void {
    if (this.spool.append(messages)) this.spooled += countEvents(messages);
    else {
      this.spoolDropped += countEvents(messages);
      this.log.error({ events: countEvents(messages), spoolBytes: this.spool.bytes }, 'telemetry spool full: batch dropped');
    }
  }

  /**
   * Send a live batch, or spool it when the broker is away. While the spool holds batches, its oldest
   * rides in front of the live one in the same request: the broker sees events in the order they happened,
   * and the spool drains at one batch per send however deep the live queue is (waiting for a quiet queue
   * before replaying left a sustained load spooling everything it emitted).
   */
  private async deliver(live: SpooledMessage[]): Promise<void> {
    if (this.connected) {
      const oldest = this.spool.oldest();
      const replayed = oldest === undefined ? [] : this.spool.read(oldest);
      if (live.length > 0 || replayed.length > 0) {
        try {
          await this.send(replayed, live);
          if (oldest !== undefined) {
            this.spool.remove(oldest);
            this.replayed += countEvents(replayed);
          }
          this.sent += countEvents(replayed) + countEvents(live);
          return;
        } catch (err) {
          this.brokerFailed(err);
        }
      }
    }
    if (live.length > 0) {
      this.toSpool(live);
      // Spooling is synchronous disk work: let requests run between batches, or a deep queue would hold
      // the router's event loop for as long as it takes to write it all.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.tryConnect();
      const replaying = this.connected && this.spool.batches > 0;
      if (this.bus.depth === 0 && !replaying) {
        await Promise.race([this.bus.whenNotEmpty(), sleep(100)]);
        continue;
      }
      // Linger briefly so batches are large and compress well, unless a full batch is already waiting
      // (or a spooled one is, which is sent at once).
      if (!replaying && this.bus.depth < this.opts.batchMax) await sleep(this.opts.lingerMs);
      await this.deliver(this.toMessages(this.bus.take(this.opts.batchMax)));
    }
  }
}
