// kafkajs hands over one partition's batch at a time, concurrently for several partitions. Inserting each
// would mean several small inserts per second per table; this gathers the batches that arrive together
// into one insert per table, and every contributor waits for that insert before committing its offsets.
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { INSERT_ORDER, insertRows, type Block, type Table } from '../store/rows.ts';

export interface InsertObserver {
  onInsert(table: string, rows: number, seconds: number): void;
  onInsertError(table: string): void;
}

interface Group {
  /** Each table's texts (one or more lines each), and the lines they hold. */
  texts: Record<Table, string[]>;
  lines: Record<Table, number>;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Coalescer {
  private group: Group | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly opts: { lingerMs: number; maxRows: number; tries: number },
    private readonly observer: InsertObserver,
  ) {}

  add(blocks: Record<Table, Block>): Promise<void> {
    if (blocks.requests.lines + blocks.attempts.lines === 0) return Promise.resolve();
    let g = this.group;
    if (!g) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      g = { texts: { requests: [], attempts: [] }, lines: { requests: 0, attempts: 0 }, done, resolve, reject };
      this.group = g;
      this.timer = setTimeout(() => void this.flush(), this.opts.lingerMs);
    }
    for (const table of INSERT_ORDER) {
      for (const t of blocks[table].texts) g.texts[table].push(t);
      g.lines[table] += blocks[table].lines;
    }
    const done = g.done;
    if (g.lines.requests + g.lines.attempts >= this.opts.maxRows) void this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    const g = this.group;
    if (!g) return;
    this.group = undefined;
    clearTimeout(this.timer);
    // One token per table for this group: an in-process retry after a timeout that did land is dropped
    // by ClickHouse; replays after a crash are filtered earlier by the partitions' high-water marks.
    const token = randomUUID();
    try {
      for (const table of INSERT_ORDER) {
        if (g.lines[table] === 0) continue;
        for (let attempt = 1; ; attempt++) {
          const t0 = performance.now();
          try {
            await insertRows(this.client, table, g.texts[table], { insert_deduplication_token: `${token}:${table}`, deduplicate_blocks_in_dependent_materialized_views: 1 });
            this.observer.onInsert(table, g.lines[table], (performance.now() - t0) / 1000);
            break;
          } catch (err) {
            this.observer.onInsertError(table);
            if (attempt >= this.opts.tries) throw err;
            await sleep(Math.min(2000, 100 * 2 ** attempt));
          }
        }
      }
      g.resolve();
    } catch (err) {
      g.reject(err);
    }
  }
}
