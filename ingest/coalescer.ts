// kafkajs hands over one partition's batch at a time, concurrently for several partitions. Inserting each
// would mean several small inserts per second per table; this gathers the batches that arrive together
// into one insert per table, and every contributor waits for that insert before committing its offsets.
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { insertRows, type Rows } from './rows.ts';

export interface InsertObserver {
  onInsert(table: string, rows: number, seconds: number): void;
  onInsertError(table: string): void;
}

interface Group extends Rows {
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

  add({ requests, attempts }: Rows): Promise<void> {
    if (requests.length + attempts.length === 0) return Promise.resolve();
    let g = this.group;
    if (!g) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      g = { requests: [], attempts: [], done, resolve, reject };
      this.group = g;
      this.timer = setTimeout(() => void this.flush(), this.opts.lingerMs);
    }
    for (const r of requests) g.requests.push(r);
    for (const a of attempts) g.attempts.push(a);
    const done = g.done;
    if (g.requests.length + g.attempts.length >= this.opts.maxRows) void this.flush();
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
      // Attempts before requests: a request row that can be read implies its attempts can (generation records).
      for (const [table, rows] of [['attempts', g.attempts], ['requests', g.requests]] as const) {
        if (rows.length === 0) continue;
        for (let attempt = 1; ; attempt++) {
          const t0 = performance.now();
          try {
            await insertRows(this.client, table, rows, { insert_deduplication_token: `${token}:${table}`, deduplicate_blocks_in_dependent_materialized_views: 1 });
            this.observer.onInsert(table, rows.length, (performance.now() - t0) / 1000);
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
