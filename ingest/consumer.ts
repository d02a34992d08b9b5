// The ingest role: a consumer group on switchboard.requests.v1 that validates every message against the
// event contract, sends poison to the DLQ with its reason, and inserts the rest into ClickHouse. Offsets
// are committed only after the insert. Exactly-once counting rests on each row carrying its partition and
// offset: on taking a partition, the consumer reads how far ClickHouse already holds it (the high-water
// mark per table) and skips anything below, so a replay after a crash or a rebalance never adds a row twice.
// Copies made by the router's spool replay are dropped by event id.
import type { ClickHouseClient } from '@clickhouse/client';
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { ensureTopics, type Topics } from '../telemetry/kafka.ts';
import { REPLAY_HEADER } from '../telemetry/kafka-sink.ts';
import { Coalescer, type InsertObserver } from './coalescer.ts';
import { reconcileUsage } from '../store/reconcile.ts';
import { prepareBatch, type HighWater, type Poison } from './batch.ts';
import { storedEventIds, storedHighWater } from '../store/positions.ts';

export interface ConsumerOptions {
  groupId: string;
  sessionTimeoutMs?: number;
  /** Fault injection for drills: wait this long between the insert and the offset commit (default 0). */
  commitDelayMs?: number;
  topics: Topics;
  /** Gather partition batches for this long into one insert. */
  lingerMs: number;
  maxRows: number;
  /** Partitions of the requests topic, should this consumer have to create it. */
  partitions?: number;
}

export interface ConsumerObserver extends InsertObserver {
  onBatch(partition: number, messages: number): void;
  /** Messages behind the end of a partition, read from the broker. */
  onLag(partition: number, lag: number): void;
  onDeadLetter(reason: string): void;
  onDuplicate(count: number): void;
}

export type ConsumerState = 'starting' | 'running' | 'down' | 'stopped';

/** Restart delays after a crash or a failed start: doubling from the first, never above the last. */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 15_000;
/** How often the lag is read from the broker (committed offsets against the partitions' ends). */
const LAG_EVERY_MS = 5_000;

/**
 * The consumer supervises itself: a failed start (the broker away) or a crash of kafkajs' consumer (it
 * does not restart itself after, e.g., `Failed to find group coordinator`) makes a fresh client after a
 * backoff, forever, until stop(). `state` says whether it is consuming, for readiness.
 */
export class IngestConsumer {
  private consumer: Consumer | undefined;
  private readonly dlq: Producer;
  private readonly admin: Admin;
  private readonly coalescer: Coalescer;
  private readonly highWater = new Map<number, HighWater>();
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private repaired = false;
  state: ConsumerState = 'starting';
  /** Why it is down, when it is. */
  lastError: string | undefined;
  /** Messages behind the end per partition, as the broker says (committed offsets); undefined until read. */
  lag: Map<number, number> | undefined;
  restarts = 0;
  ingested = 0;
  deadLettered = 0;
  duplicates = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly client: ClickHouseClient,
    private readonly opts: ConsumerOptions,
    private readonly log: Logger,
    private readonly observer: ConsumerObserver,
  ) {
    this.dlq = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.admin = kafka.admin();
    this.coalescer = new Coalescer(client, { lingerMs: opts.lingerMs, maxRows: opts.maxRows, tries: 5 }, observer);
  }

  /** Resolves once consuming, or after the first failed try (it keeps trying in the background). */
  async start(): Promise<void> {
    await this.attempt();
    this.lagTimer = setInterval(() => void this.readLag(), LAG_EVERY_MS);
    this.lagTimer.unref();
  }

  /** Finishes the batches in hand (their inserts and commits), then leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearTimeout(this.restartTimer);
    clearInterval(this.lagTimer);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.dlq.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    this.state = 'starting';
    try {
      if (!this.repaired) {
        // A predecessor killed mid-insert may have left raw rows without their aggregate rows: repair first.
        const repaired = await reconcileUsage(this.client, Date.now() - 2 * 86_400_000);
        if (repaired > 0) this.log.warn({ repaired }, 'aggregates were behind the raw rows (an earlier crash): repaired');
        this.repaired = true;
      }
      await ensureTopics(this.kafka, this.opts.topics, this.opts.partitions ?? 4);
      await this.dlq.connect();
      const consumer = this.newConsumer();
      this.consumer = consumer;
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.topics.requests, fromBeginning: true });
      await consumer.run({ eachBatchAutoResolve: false, autoCommit: true, partitionsConsumedConcurrently: 16, eachBatch: (p) => this.eachBatch(p) });
      if (this.stopped) await consumer.disconnect();
    } catch (err) {
      this.onDown(err as Error);
    }
  }

  private newConsumer(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.opts.groupId,
      // Let the broker gather about a second of data per fetch: fewer, larger inserts.
      minBytes: 1_000_000,
      maxWaitTimeInMs: 1000,
      maxBytesPerPartition: 16 * 1024 * 1024,
      sessionTimeout: this.opts.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
    });
    // After any rebalance, what this consumer knew of a partition may be stale: ask ClickHouse again.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.highWater.clear();
      this.state = 'running';
      this.failures = 0;
      this.lastError = undefined;
      void this.readLag();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts itself after retriable errors (down until it has joined again); after the others
      // it stays dead: restarting it is ours to do.
      if (!payload.restart) return this.onDown(payload.error);
      this.state = 'down';
      this.lastError = payload.error.message;
    });
    return consumer;
  }

  private onDown(err: Error): void {
    if (this.stopped || this.restartTimer !== undefined) return;
    this.state = 'down';
    this.lastError = err.message;
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** this.failures++);
    this.log.error({ err: err.message, retryInMs: delay }, 'ingest consumer is down; restarting it');
    const dead = this.consumer;
    this.consumer = undefined;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarts++;
      void (async () => {
        await dead?.disconnect().catch(() => undefined);
        await this.attempt();
      })();
    }, delay);
  }

  /** The group's committed offsets against the partitions' ends, from the broker (not from what this process saw). */
  private async readLag(): Promise<void> {
    try {
      await this.admin.connect();
      const topic = this.opts.topics.requests;
      const [ends, [committed]] = await Promise.all([this.admin.fetchTopicOffsets(topic), this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: [topic] })]);
      const at = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
      const lag = new Map<number, number>();
      for (const p of ends) {
        const c = at.get(p.partition) ?? -1;
        // Nothing committed yet: everything from the partition's start is still to read.
        lag.set(p.partition, Number(p.high) - (c < 0 ? Number(p.low) : c));
      }
      this.lag = lag;
      for (const [partition, n] of lag) this.observer.onLag(partition, n);
    } catch (err) {
      this.lag = undefined;
      this.log.warn({ err: (err as Error).message }, 'ingest lag could not be read from the broker');
    }
  }

  private async partitionHighWater(partition: number): Promise<HighWater> {
    let hw = this.highWater.get(partition);
    if (!hw) {
      hw = await storedHighWater(this.client, partition);
      this.highWater.set(partition, hw);
    }
    return hw;
  }

  /** Event ids among `events` that ClickHouse already holds (only asked for replayed copies). */
  private async deadLetter(poison: Poison[]): Promise<void> {
    if (poison.length === 0) return;
    await this.dlq.send({
      topic: this.opts.topics.dlq,
      acks: -1,
      messages: poison.map(({ value, key, offset, partition, reason }) => ({
        key,
        value,
        headers: { reason, source_topic: this.opts.topics.requests, source_partition: String(partition), source_offset: String(offset) },
      })),
    });
    for (const p of poison) this.observer.onDeadLetter(p.reason);
    this.deadLettered += poison.length;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    if (batch.isEmpty()) return;
    const partition = batch.partition;
    const hw = await this.partitionHighWater(partition);
    const messages = batch.messages.map((m) => ({ offset: Number(m.offset), value: m.value, key: m.key, replay: m.headers?.[REPLAY_HEADER] !== undefined }));
    const { blocks, poison, kept, skipped, next } = await prepareBatch(messages, partition, hw, (events) => storedEventIds(this.client, events));
    await this.deadLetter(poison);
    await heartbeat();
    await this.coalescer.add(blocks);
    // What is now in ClickHouse raises the marks, so a re-delivery in this session is skipped too.
    hw.requests = Math.max(hw.requests, next.requests);
    hw.attempts = Math.max(hw.attempts, next.attempts);
    this.ingested += kept;
    if (skipped > 0) {
      this.duplicates += skipped;
      this.observer.onDuplicate(skipped);
    }
    if (this.opts.commitDelayMs) await new Promise((r) => setTimeout(r, this.opts.commitDelayMs));
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    this.observer.onBatch(partition, batch.messages.length);
  }
}
