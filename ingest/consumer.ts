// The ingest role: a consumer group on switchboard.requests.v1 that validates every message against the
// event contract, sends poison to the DLQ with its reason, and inserts the rest into ClickHouse. Offsets
// are committed only after the insert. Exactly-once counting rests on each row carrying its partition and
// offset: on taking a partition, the consumer reads how far ClickHouse already holds it (the high-water
// mark per table) and skips anything below, so a replay after a crash or a rebalance never adds a row twice.
// Copies made by the router's spool replay are dropped by event id.
import type { ClickHouseClient } from '@clickhouse/client';
import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { decodeMessage, type TelemetryEvent } from '../telemetry/event.ts';
import type { Topics } from '../telemetry/kafka.ts';
import { REPLAY_HEADER } from '../telemetry/kafka-sink.ts';
import { dateTime64 as dateTime, queryRows } from '../analytics/clickhouse.ts';
import { Coalescer, type InsertObserver } from './coalescer.ts';
import { reconcileUsage } from '../analytics/reconcile.ts';
import { INSERT_ORDER, lineOf, tableOf, type Block, type Table } from './rows.ts';

export interface ConsumerOptions {
  groupId: string;
  sessionTimeoutMs?: number;
  /** Fault injection for drills: wait this long between the insert and the offset commit (default 0). */
  commitDelayMs?: number;
  topics: Topics;
  /** Gather partition batches for this long into one insert. */
  lingerMs: number;
  maxRows: number;
}

export interface ConsumerObserver extends InsertObserver {
  onBatch(partition: number, messages: number, lag: number): void;
  onDeadLetter(reason: string): void;
  onDuplicate(count: number): void;
}

interface Poison {
  value: Buffer | string;
  key: Buffer | null;
  offset: string;
  partition: number;
  reason: string;
}

interface HighWater {
  requests: number;
  attempts: number;
}


export class IngestConsumer {
  private readonly consumer: Consumer;
  private readonly dlq: Producer;
  private readonly coalescer: Coalescer;
  private readonly highWater = new Map<number, HighWater>();
  ingested = 0;
  deadLettered = 0;
  duplicates = 0;

  constructor(
    kafka: Kafka,
    private readonly client: ClickHouseClient,
    private readonly opts: ConsumerOptions,
    private readonly log: Logger,
    private readonly observer: ConsumerObserver,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      // Let the broker gather about a second of data per fetch: fewer, larger inserts.
      minBytes: 1_000_000,
      maxWaitTimeInMs: 1000,
      maxBytesPerPartition: 16 * 1024 * 1024,
      sessionTimeout: opts.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
    });
    this.dlq = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.coalescer = new Coalescer(client, { lingerMs: opts.lingerMs, maxRows: opts.maxRows, tries: 5 }, observer);
    // After any rebalance, what this consumer knew of a partition may be stale: ask ClickHouse again.
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.highWater.clear());
  }

  async start(): Promise<void> {
    // A predecessor killed mid-insert may have left raw rows without their aggregate rows: repair first.
    const repaired = await reconcileUsage(this.client, Date.now() - 2 * 86_400_000);
    if (repaired > 0) this.log.warn({ repaired }, 'aggregates were behind the raw rows (an earlier crash): repaired');
    await this.dlq.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.opts.topics.requests, fromBeginning: true });
    await this.consumer.run({ eachBatchAutoResolve: false, autoCommit: true, partitionsConsumedConcurrently: 16, eachBatch: (p) => this.eachBatch(p) });
  }

  /** Finishes the batches in hand (their inserts and commits), then leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.dlq.disconnect();
  }

  private async partitionHighWater(partition: number): Promise<HighWater> {
    let hw = this.highWater.get(partition);
    if (!hw) {
      const [row] = await queryRows<{ r: string; a: string }>(
        this.client,
        `SELECT (SELECT max(kafka_offset_next) FROM requests WHERE kafka_partition = {p:UInt16}) AS r,
                (SELECT max(kafka_offset_next) FROM attempts WHERE kafka_partition = {p:UInt16}) AS a`,
        { p: partition },
      );
      hw = { requests: Number(row.r), attempts: Number(row.a) };
      this.highWater.set(partition, hw);
    }
    return hw;
  }

  /** Event ids among `events` that ClickHouse already holds (only asked for replayed copies). */
  private async alreadyStored(events: TelemetryEvent[]): Promise<Set<string>> {
    if (events.length === 0) return new Set();
    const ids = events.map((e) => e.event_id);
    const ts = events.map((e) => e.ts);
    const params = { ids, from: dateTime(Math.min(...ts)), to: dateTime(Math.max(...ts)) };
    const rows = await queryRows<{ id: string }>(
      this.client,
      `SELECT toString(event_id) AS id FROM requests WHERE ts BETWEEN {from:DateTime64(3, 'UTC')} AND {to:DateTime64(3, 'UTC')} AND toString(event_id) IN {ids:Array(String)}
       UNION ALL
       SELECT toString(event_id) AS id FROM attempts WHERE ts BETWEEN {from:DateTime64(3, 'UTC')} AND {to:DateTime64(3, 'UTC')} AND toString(event_id) IN {ids:Array(String)}`,
      params,
    );
    return new Set(rows.map((r) => r.id));
  }

  private async deadLetter(poison: Poison[]): Promise<void> {
    if (poison.length === 0) return;
    await this.dlq.send({
      topic: this.opts.topics.dlq,
      acks: -1,
      messages: poison.map(({ value, key, offset, partition, reason }) => ({
        key,
        value,
        headers: { reason, source_topic: this.opts.topics.requests, source_partition: String(partition), source_offset: offset },
      })),
    });
    for (const p of poison) this.observer.onDeadLetter(p.reason);
    this.deadLettered += poison.length;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    if (batch.isEmpty()) return;
    const partition = batch.partition;
    const hw = await this.partitionHighWater(partition);
    const { blocks, poison, kept, skipped, next } = await this.prepare(batch.messages, partition, hw);
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
    this.observer.onBatch(partition, batch.messages.length, Number(batch.offsetLag()));
  }

  /**
   * A batch's messages decoded and checked: its rows, its poison, and the marks its rows reach. Each event
   * becomes its line as it is read and each message's lines one text, so no event object outlives its
   * message (replayed copies excepted: they wait for the check by event id).
   */
  private async prepare(messages: EachBatchPayload['batch']['messages'], partition: number, hw: HighWater) {
    const blocks: Record<Table, Block> = { requests: { texts: [], lines: 0 }, attempts: { texts: [], lines: 0 } };
    const next = { requests: 0, attempts: 0 };
    const replayed: { e: TelemetryEvent; offset: number }[] = [];
    const poison: Poison[] = [];
    const seen = new Set<string>();
    let skipped = 0;
    let kept = 0;
    const keep = (e: TelemetryEvent, offset: number, out: Record<Table, string[]>) => {
      const table = tableOf(e);
      out[table].push(lineOf(e, partition, offset + 1));
      next[table] = Math.max(next[table], offset + 1);
      kept++;
    };
    const close = (out: Record<Table, string[]>) => {
      for (const table of INSERT_ORDER) {
        if (out[table].length === 0) continue;
        blocks[table].texts.push(out[table].join('\n'));
        blocks[table].lines += out[table].length;
      }
    };
    for (const message of messages) {
      const offset = Number(message.offset);
      const replay = message.headers?.[REPLAY_HEADER] !== undefined;
      const out: Record<Table, string[]> = { requests: [], attempts: [] };
      for (const { line, result } of decodeMessage(message.value)) {
        if (!result.ok) {
          poison.push({ value: line, key: message.key, offset: message.offset, partition, reason: result.reason });
          continue;
        }
        const e = result.event;
        // Below the high-water mark of its table: ClickHouse has it from an earlier run.
        if (offset + 1 <= hw[tableOf(e)] || seen.has(e.event_id)) {
          skipped++;
          continue;
        }
        seen.add(e.event_id);
        if (replay) replayed.push({ e, offset });
        else keep(e, offset, out);
      }
      close(out);
    }
    if (replayed.length > 0) {
      const stored = await this.alreadyStored(replayed.map((r) => r.e));
      skipped += stored.size;
      const out: Record<Table, string[]> = { requests: [], attempts: [] };
      for (const { e, offset } of replayed) if (!stored.has(e.event_id)) keep(e, offset, out);
      close(out);
    }
    return { blocks, poison, kept, skipped, next };
  }
}
