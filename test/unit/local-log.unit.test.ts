// The local log on its own: lines across segments, a torn tail cut on reopening, reads that stop at a torn
// line and resume, and a sink that counts what it could not write instead of throwing.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLines } from '../../ingest/log-tail.ts';
import { LocalLogSink, LocalLogWriter, segmentsOf } from '../../telemetry/local-log.ts';
import { requestEvent } from '../fixtures/events.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'local-log-'));

describe('local log', () => {
  it('rolls segments and reads every line once, in order, with offsets that chain', () => {
    const d = dir();
    const w = new LocalLogWriter(d, 100);
    w.open();
    const lines = Array.from({ length: 30 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(i % 7)}"}\n`);
    for (const l of lines) w.append(l);
    w.close();
    const segs = segmentsOf(d);
    expect(segs.length).toBeGreaterThan(3);
    let position = 0;
    const seen: string[] = [];
    for (;;) {
      const { messages, end } = readLines(segs, position, 64);
      if (messages.length === 0) break;
      for (const m of messages) {
        expect(m.offset + 1).toBeGreaterThan(position);
        seen.push(`${m.value!.toString()}\n`);
      }
      expect(end).toBe(messages.at(-1)!.offset + 1);
      position = end;
    }
    expect(seen).toEqual(lines);
  });

  it('a torn last line is not read, and is cut when the writer reopens', () => {
    const d = dir();
    const w = new LocalLogWriter(d);
    w.open();
    w.append('{"a":1}\n');
    w.close();
    const [seg] = segmentsOf(d);
    appendFileSync(seg.path, '{"torn":');
    expect(readLines(segmentsOf(d), 0, 1 << 20).messages.map((m) => m.value!.toString())).toEqual(['{"a":1}']);
    const again = new LocalLogWriter(d);
    again.open();
    again.append('{"b":2}\n');
    again.close();
    expect(readFileSync(seg.path, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    expect(again.position).toBe(16);
  });

  it('the sink writes a request with its attempts in one go, and counts a failed write as dropped', () => {
    const d = dir();
    const w = new LocalLogWriter(d);
    w.open();
    const sink = new LocalLogSink(w);
    sink.emit({ ...requestEvent(), kind: 'attempt', attempt: 0, model: 'm' } as never);
    expect(sink.waiting).toBe(1);
    sink.emit(requestEvent());
    expect(sink.waiting).toBe(0);
    expect(readFileSync(segmentsOf(d)[0].path, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    w.close(); // the file is gone from under the sink: writes fail
    sink.emit(requestEvent());
    expect(sink.dropped).toBe(1);
    expect(sink.accepted).toBe(3);
  });
});

describe('local log cap', () => {
  it('past its cap of bytes not yet ingested the sink drops and counts, and writes again once ingest caught up', () => {
    const d = dir();
    const w = new LocalLogWriter(d, 200);
    w.open();
    let now = 0;
    const sink = new LocalLogSink(w, 600, () => now);
    for (let i = 0; i < 20; i++) {
      sink.emit(requestEvent());
      now += 1000;
    }
    expect(sink.dropped).toBeGreaterThan(0);
    expect(sink.lastError).toMatch(/more than 600 bytes not yet ingested/);
    expect(w.backlogBytes()).toBeLessThanOrEqual(600 + 2 * 500); // at most a check interval's worth past the cap
    // Ingest read and deleted every segment but the newest: the backlog is small again.
    const segs = segmentsOf(d);
    for (const s of segs.slice(0, -1)) rmSync(s.path);
    const dropped = sink.dropped;
    now += 1000;
    sink.emit(requestEvent());
    expect(sink.dropped).toBe(dropped);
    expect(sink.accepted).toBe(21);
  });
});
