import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../telemetry/bus.ts';
import type { TelemetryEvent } from '../../telemetry/event.ts';

// Events stand in by their id only: the bus never looks inside them.
const ev = (n: number) => ({ event_id: String(n) }) as unknown as TelemetryEvent;
const ids = (events: TelemetryEvent[]) => events.map((e) => Number(e.event_id));

describe('in-process telemetry bus', () => {
  it('hands out every event once, oldest first, across partial and whole takes and a compaction', () => {
    const bus = new MemoryBus(100_000);
    const seen: number[] = [];
    let next = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 700; i++) bus.emit(ev(next++));
      // Partial takes (past the compaction threshold over the rounds), then now and then everything.
      seen.push(...ids(bus.take(500)));
      if (round % 3 === 2) seen.push(...ids(bus.take(Infinity)));
    }
    seen.push(...ids(bus.take(Infinity)));
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(bus.depth).toBe(0);
    expect(bus.take(10)).toEqual([]);
  });

  it('counts what it refuses past its bound, queue and handed-on events together', () => {
    const bus = new MemoryBus(10);
    for (let i = 0; i < 6; i++) bus.emit(ev(i));
    bus.outstanding = bus.take(4).length; // handed to another thread, not yet written
    for (let i = 6; i < 14; i++) bus.emit(ev(i));
    expect(bus.accepted).toBe(10);
    expect(bus.dropped).toBe(4);
    expect(ids(bus.take(100))).toEqual([4, 5, 6, 7, 8, 9]);
  });
});
