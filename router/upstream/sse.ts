// Incremental server-sent-events parser: bytes in, whole events out, however the network splits them.

export interface SseEvent {
  event: string | undefined;
  data: string;
}

export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array | string): SseEvent[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    let sep: number;
    while ((sep = this.nextBoundary()) >= 0) {
      const raw = this.buffer.slice(0, sep);
      this.buffer = this.buffer.slice(sep).replace(/^(\r?\n){2}/, '');
      const ev = parseBlock(raw);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** Bytes left that never formed a whole event (a cut stream leaves some). */
  get pending(): string {
    return this.buffer;
  }

  private nextBoundary(): number {
    const a = this.buffer.indexOf('\n\n');
    const b = this.buffer.indexOf('\r\n\r\n');
    if (a < 0) return b;
    if (b < 0) return a;
    return Math.min(a, b);
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 && event === undefined ? undefined : { event, data: data.join('\n') };
}
