// The data side of the local log: reads each router's segments from where ClickHouse already holds them
// (the high-water marks of its partition), inserts new lines through the same batch rules as the Kafka
// consumer (ingest/batch.ts), and deletes segments it has wholly written. A failed insert is retried from
// the same position at the next poll: nothing is dropped, and nothing is inserted twice.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../core/logger.ts';
import { LOG_PARTITION_BASE, segmentsOf, type Segment } from '../telemetry/local-log.ts';
import { storedHighWater } from '../store/positions.ts';
import { prepareBatch, type HighWater, type SourceMessage } from './batch.ts';
import { Coalescer, type InsertObserver } from './coalescer.ts';

export interface LogTailObserver extends InsertObserver {
  /** Lines refused as invalid against the event contract (never written). */
  onInvalid(reason: string, events: number): void;
  /** After each poll that wrote something. */
  onProgress(written: number, invalid: number): void;
}

export interface LogTailOptions {
  pollMs: number;
  /** The most read from one writer in one poll. */
  maxBytes: number;
  lingerMs: number;
  maxRows: number;
}

interface Source {
  partition: number;
  dir: string;
  hw: HighWater;
  /** Where the next unread line starts. */
  position: number;
}

const WRITER = /^p(\d+)$/;

export class LogTail {
  private readonly sources = new Map<string, Source>();
  private readonly coalescer: Coalescer;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;
  written = 0;
  invalid = 0;

  constructor(
    private readonly root: string,
    private readonly client: ClickHouseClient,
    private readonly opts: LogTailOptions,
    private readonly observer: LogTailObserver,
    private readonly log: Logger,
  ) {
    this.coalescer = new Coalescer(client, { lingerMs: opts.lingerMs, maxRows: opts.maxRows, tries: 3 }, observer);
  }

  start(): void {
    const tick = () => {
      void this.poll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.pollMs);
      });
    };
    tick();
  }

  /** Reads and writes everything the writers have appended so far, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.poll();
  }

  /** One pass over every writer, after any pass still running (two at once would read the same lines). */
  poll(): Promise<void> {
    this.polling = this.polling.then(() => this.pass());
    return this.polling;
  }

  private async pass(): Promise<void> {
    if (!existsSync(this.root)) return;
    for (const name of readdirSync(this.root)) {
      const m = WRITER.exec(name);
      if (!m) continue;
      try {
        const source = await this.sourceOf(name, Number(m[1]));
        while (await this.readSome(source));
      } catch (err) {
        this.log.error({ err: (err as Error).message, writer: name }, 'local log not ingested; retrying from the same position');
      }
    }
  }

  private async sourceOf(name: string, index: number): Promise<Source> {
    let s = this.sources.get(name);
    if (!s) {
      const partition = LOG_PARTITION_BASE + index;
      const dir = join(this.root, name);
      const hw = await storedHighWater(this.client, partition);
      const first = segmentsOf(dir)[0]?.base ?? 0;
      // The table that is further behind decides where to read from; lines below a table's mark are skipped.
      s = { partition, dir, hw, position: Math.max(first, Math.min(hw.requests, hw.attempts)) };
      this.sources.set(name, s);
    }
    return s;
  }

  /** Reads, inserts and advances past one chunk of whole lines; false when there was nothing new. */
  private async readSome(s: Source): Promise<boolean> {
    const segments = segmentsOf(s.dir);
    const { messages, end } = readLines(segments, s.position, this.opts.maxBytes);
    if (messages.length === 0) return false;
    const batch = await prepareBatch(messages, s.partition, s.hw, async () => new Set());
    await this.coalescer.add(batch.blocks);
    s.hw.requests = Math.max(s.hw.requests, batch.next.requests);
    s.hw.attempts = Math.max(s.hw.attempts, batch.next.attempts);
    s.position = end;
    this.written += batch.kept;
    const refused = new Map<string, number>();
    for (const p of batch.poison) refused.set(p.reason, (refused.get(p.reason) ?? 0) + 1);
    for (const [reason, n] of refused) {
      this.invalid += n;
      this.observer.onInvalid(reason, n);
    }
    this.observer.onProgress(this.written, this.invalid);
    removeConsumed(segments, end);
    return true;
  }
}

/** Whole lines from `position` on, across segments, up to about `maxBytes`; a torn last line waits. */
export function readLines(segments: readonly Segment[], position: number, maxBytes: number): { messages: SourceMessage[]; end: number } {
  const messages: SourceMessage[] = [];
  let end = position;
  for (let i = 0; i < segments.length && end - position < maxBytes; i++) {
    const seg = segments[i];
    const size = statSync(seg.path).size;
    const segEnd = seg.base + size;
    if (segEnd <= end) continue;
    const from = Math.max(end, seg.base) - seg.base;
    const buf = Buffer.alloc(Math.min(size - from, maxBytes - (end - position)));
    const fd = openSync(seg.path, 'r');
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    let start = 0;
    for (let nl = buf.indexOf(0x0a, 0); nl >= 0 && nl < n; nl = buf.indexOf(0x0a, start)) {
      const offset = seg.base + from + nl;
      messages.push({ offset, value: buf.subarray(start, nl) });
      start = nl + 1;
      end = offset + 1;
    }
    // A segment not read to its end (a torn line, or the byte budget) ends this read.
    if (seg.base + from + start < segEnd) break;
  }
  return { messages, end };
}

/** Segments wholly below `position` that a newer segment follows (the newest may still be written to). */
function removeConsumed(segments: readonly Segment[], position: number): void {
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i + 1].base <= position) unlinkSync(segments[i].path);
  }
}
