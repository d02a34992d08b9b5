// The router's side of telemetry: a non-blocking hand-off. `emit` never waits and never throws; when the
// bounded queue is full the event is dropped and counted, which is the explicit limit DESIGN.md allows.
import type { TelemetryEvent } from './event.ts';

export interface TelemetrySink {
  emit(event: TelemetryEvent): void;
}

/** A sink with its counts: accepted, not yet handed on, and dropped at its explicit limit. */
export interface TelemetryCounts extends TelemetrySink {
  readonly accepted: number;
  readonly waiting: number;
  readonly dropped: number;
}

/** In-process bounded queue (embedded mode): the router emits, the ingest writer drains. */
export class MemoryBus implements TelemetrySink {
  private queue: TelemetryEvent[] = [];
  private head = 0;
  dropped = 0;
  accepted = 0;
  /** Taken from the queue but not yet written (in another thread's hands): still counts against the bound. */
  outstanding = 0;
  private waiter: (() => void) | undefined;

  constructor(readonly capacity: number) {}

  emit(event: TelemetryEvent): void {
    if (this.depth + this.outstanding >= this.capacity) {
      this.dropped++;
      return;
    }
    this.queue.push(event);
    this.accepted++;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w();
    }
  }

  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Everything emitted and not yet written: the queue plus what was handed on. */
  get waiting(): number {
    return this.depth + this.outstanding;
  }

  /**
   * Take up to `max` events, oldest first. The queue lets go of what it hands out: events kept referenced
   * here after their hand-off (until the next compaction, about a second at 4,000 events/s) outlived the
   * young generation and were promoted, a few kilobytes of old-generation garbage per request.
   */
  take(max: number): TelemetryEvent[] {
    const end = Math.min(this.queue.length, this.head + max);
    if (end === this.queue.length) {
      const out = this.head === 0 ? this.queue : this.queue.slice(this.head);
      this.queue = [];
      this.head = 0;
      return out;
    }
    const out = this.queue.slice(this.head, end);
    (this.queue as (TelemetryEvent | undefined)[]).fill(undefined, this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Resolves when an event arrives (or at once if some are waiting). */
  whenNotEmpty(): Promise<void> {
    if (this.depth > 0) return Promise.resolve();
    return new Promise((r) => (this.waiter = r));
  }
}
