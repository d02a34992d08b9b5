// A bounded spool on disk for telemetry the broker could not take. Batches are files named by sequence,
// replayed oldest first and deleted once the broker has acknowledged them. Past the byte limit a batch
// is refused (and counted by the caller): that is the one place events are lost, on purpose and counted.
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface SpooledMessage {
  key: string;
  value: string;
  /** Events packed in `value`. */
  events: number;
}

export class DiskSpool {
  private seq: number;
  private sizes = new Map<string, number>();
  bytes = 0;

  constructor(
    private readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    const files = this.files();
    for (const f of files) {
      const size = statSync(join(dir, f)).size;
      this.sizes.set(f, size);
      this.bytes += size;
    }
    this.seq = files.length ? Number(files[files.length - 1].split('.')[0]) + 1 : 0;
  }

  /** Oldest first. */
  files(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.ndjson'))
      .sort();
  }

  /** The oldest batch's name (batches are kept in the order they were written). */
  oldest(): string | undefined {
    return this.sizes.keys().next().value;
  }

  get batches(): number {
    return this.sizes.size;
  }

  /** Write a batch; false when it would pass the limit. */
  append(messages: SpooledMessage[]): boolean {
    const text = `${messages.map((m) => JSON.stringify(m)).join('\n')}\n`;
    const size = Buffer.byteLength(text);
    if (this.bytes + size > this.maxBytes) return false;
    const name = `${String(this.seq++).padStart(12, '0')}.ndjson`;
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(this.dir, name)); // a crash leaves a whole batch or none
    this.sizes.set(name, size);
    this.bytes += size;
    return true;
  }

  read(name: string): SpooledMessage[] {
    return readFileSync(join(this.dir, name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SpooledMessage);
  }

  remove(name: string): void {
    unlinkSync(join(this.dir, name));
    this.bytes -= this.sizes.get(name) ?? 0;
    this.sizes.delete(name);
  }
}
