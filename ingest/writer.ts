// Embedded-mode ingest: drains the in-process bus into ClickHouse in batches (thousands of rows, about one
// insert per second per table). A failed insert is retried with the same deduplication token, so a retry
// after a timeout that did in fact land cannot double-count.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../core/logger.ts';
import type { MemoryBus } from '../telemetry/bus.ts';
import type { TelemetryEvent } from '../telemetry/event.ts';
import { INSERT_ORDER, insertRows, toRows } from './rows.ts';

export interface WriterOptions {
  batchMax: number;
  flushIntervalMs: number;
}

export interface WriterObserver {
  onInsert(table: string, rows: number, seconds: number): void;
  onInsertError(table: string): void;
  /** A batch given up after MAX_TRIES failed inserts. */
  onDrop(table: string, rows: number): void;
  /** A batch is done with (written, or dropped for good). */
  onBatch?(): void;
}

/** A batch still failing after this many tries (about a minute) is dropped and counted, so one bad batch
 * cannot stop telemetry for good. */
const MAX_TRIES = 15;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class IngestWriter {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Events (one row each) inserted, and given up for good: together, every event taken. */
  written = 0;
  dropped = 0;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly bus: MemoryBus,
    private readonly opts: WriterOptions,
    private readonly log: Logger,
    private readonly observer?: WriterObserver,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Flush everything still queued, then stop. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    while (this.bus.depth > 0) await this.writeBatch(this.bus.take(this.opts.batchMax));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await Promise.race([this.bus.whenNotEmpty(), new Promise<void>((r) => (this.wake = r))]);
      if (this.stopping) break;
      // Gather for one interval unless a full batch is already waiting: fewer, larger inserts.
      const deadline = Date.now() + this.opts.flushIntervalMs;
      while (!this.stopping && this.bus.depth < this.opts.batchMax && Date.now() < deadline) {
        await Promise.race([sleep(Math.min(50, deadline - Date.now())), new Promise<void>((r) => (this.wake = r))]);
      }
      await this.writeBatch(this.bus.take(this.opts.batchMax));
    }
  }

  private async writeBatch(batch: TelemetryEvent[]): Promise<void> {
    if (batch.length === 0) return;
    const byTable = toRows(batch);
    const token = `${batch[0].event_id}:${batch[batch.length - 1].event_id}:${batch.length}`;
    for (const table of INSERT_ORDER) {
      const rows = byTable[table];
      if (rows.length === 0) continue;
      for (let attempt = 0; ; attempt++) {
        const t0 = performance.now();
        try {
          await insertRows(this.client, table, rows, { insert_deduplication_token: `${token}:${table}` });
          this.observer?.onInsert(table, rows.length, (performance.now() - t0) / 1000);
          this.written += rows.length;
          break;
        } catch (err) {
          this.observer?.onInsertError(table);
          if (attempt + 1 >= MAX_TRIES || (this.stopping && attempt >= 5)) {
            this.log.error({ err, table, rows: rows.length }, 'telemetry insert failed for good; batch dropped');
            this.observer?.onDrop(table, rows.length);
            this.dropped += rows.length;
            break;
          }
          this.log.error({ err, table, rows: rows.length, attempt }, 'telemetry insert failed; retrying');
          await sleep(Math.min(5000, 100 * 2 ** attempt));
        }
      }
    }
    this.observer?.onBatch?.();
  }
}
