// The durable local log between routers and ingest when there is no Kafka: each router appends its
// telemetry to segment files of its own under DATA_DIR/log/p<N>/, one event per line (the topic's wire
// format), and the data side reads them with the same exactly-once rules as a Kafka partition (ingest/
// batch.ts): a line's position is its offset, and every row stores where the next line starts.
// Lines are written with one write(2) before the answer's last byte leaves (see LocalLogSink): once an
// answer is out, its telemetry is in the operating system's hands, so killing any process loses none of
// it (a machine crash can still lose what the kernel had not yet flushed to disk).
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEvent, type TelemetryEvent } from './event.ts';
import type { TelemetrySink } from './bus.ts';

/** Rows from a local log store partition LOG_PARTITION_BASE + N, apart from any Kafka partition's. */
export const LOG_PARTITION_BASE = 1000;
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export interface Segment {
  /** Position of its first byte in the writer's whole log. */
  base: number;
  path: string;
}

const SEGMENT = /^(\d{20})\.log$/;

export const logDirOf = (dataDir: string) => join(dataDir, 'log');
export const writerDir = (dataDir: string, index: number) => join(logDirOf(dataDir), `p${index}`);

/** A writer's segments, oldest first. */
export function segmentsOf(dir: string): Segment[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => SEGMENT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ base: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.base - b.base);
}

const segmentName = (base: number) => `${String(base).padStart(20, '0')}.log`;

/** Length of a file up to and including its last newline (a torn last line is not part of the log). */
function wholeLength(path: string): number {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, 1 << 20));
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const i = buf.subarray(0, n).lastIndexOf(0x0a);
      if (i >= 0) return start + i + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/** One router's append-only log: the only writer of its directory. */
export class LocalLogWriter {
  private fd = -1;
  private segmentSize = 0;
  /** Position where the next line starts. */
  position = 0;

  constructor(
    readonly dir: string,
    private readonly segmentBytes = DEFAULT_SEGMENT_BYTES,
  ) {}

  /** Opens the newest segment for appending (after cutting a torn last line a crash may have left). */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const last = segmentsOf(this.dir).at(-1);
    if (!last) {
      this.roll(0);
      return;
    }
    const whole = wholeLength(last.path);
    this.fd = openSync(last.path, 'r+');
    ftruncateSync(this.fd, whole);
    closeSync(this.fd);
    this.fd = openSync(last.path, 'a', 0o600);
    this.segmentSize = whole;
    this.position = last.base + whole;
  }

  /** Bytes written and not yet read by ingest (it deletes the segments it has read), as of now. */
  backlogBytes(): number {
    const oldest = segmentsOf(this.dir)[0]?.base ?? this.position;
    return this.position - oldest;
  }

  /** Appends whole lines (each ending in a newline) in one write. */
  append(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    writeSync(this.fd, bytes);
    this.position += bytes.length;
    this.segmentSize += bytes.length;
    if (this.segmentSize >= this.segmentBytes) this.roll(this.position);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private roll(base: number): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(join(this.dir, segmentName(base)), 'a', 0o600);
    this.segmentSize = 0;
    this.position = base;
  }
}

/**
 * The router's sink onto its local log. A request's attempt events wait (in memory, briefly) for its
 * request event, and all go out in one write when the request event is emitted — before the answer's last
 * byte is sent — or at the next turn of the event loop, whichever comes first. Past `maxBytes` not yet
 * read by ingest (checked at most once a second), or when a write fails (disk full), events are dropped and
 * counted: the explicit limit DESIGN.md allows.
 */
export class LocalLogSink implements TelemetrySink {
  private lines: string[] = [];
  private scheduled = false;
  private checkedAt = -Infinity;
  private full = false;
  accepted = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(
    private readonly writer: LocalLogWriter,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
    private readonly clock: () => number = Date.now,
  ) {}

  emit(event: TelemetryEvent): void {
    this.lines.push(`${encodeEvent(event)}\n`);
    this.accepted++;
    if (event.kind === 'request') this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Events emitted and not yet in the log. */
  get waiting(): number {
    return this.lines.length;
  }

  flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    if (this.overCap()) {
      this.dropped += lines.length;
      this.lastError = `the local log holds more than ${this.maxBytes} bytes not yet ingested`;
      return;
    }
    try {
      this.writer.append(lines.join(''));
    } catch (err) {
      this.dropped += lines.length;
      this.lastError = (err as Error).message;
    }
  }

  close(): void {
    this.flush();
    this.writer.close();
  }

  private overCap(): boolean {
    if (this.maxBytes === Number.POSITIVE_INFINITY) return false;
    const now = this.clock();
    if (now - this.checkedAt >= 1000) {
      this.checkedAt = now;
      this.full = this.writer.backlogBytes() > this.maxBytes;
    }
    return this.full;
  }
}
