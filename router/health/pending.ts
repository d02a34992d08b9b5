// Attempts this router has sent to one endpoint and not heard back from yet (the first token of a stream,
// or the whole answer). Slowness shows here at once: the fleet's signal sees a slow answer only when it has
// ended and passed through telemetry, seconds later, while this router keeps sending more requests to it.

/**
 * Overdue attempts at one time that mark the endpoint slow: one can be a heavy tail, two at once rarely
 * are; and they must be at least half of those waiting, so that busy endpoints' tails do not add up to it.
 */
export const OVERDUE_TO_HOLD = 2;
/** How long a slow endpoint stays out of first choice here: long enough for the fleet's signal to take over. */
export const SLOW_HOLD_MS = 10_000;
/**
 * Below this, an expected wait is our own jitter: a busy router's event loop (or a busy machine) can delay
 * reading an answer by a hundred milliseconds or more, and that must not read as the provider being slow.
 */
const MIN_EXPECTED_MS = 250;

interface Attempt {
  due: number;
  state: 'waiting' | 'overdue' | 'ended';
}

export class PendingAttempts {
  /** Min-heap by due time of the attempts not yet past due (ended ones leave it lazily, when due). */
  private readonly heap: Attempt[] = [];
  private waiting = 0;
  private overdue = 0;
  private slowUntil = 0;
  /** Overdue count when the hold was last (re)started, for the explanation. */
  private lastOverdue = 0;

  constructor(private readonly factor: number) {}

  /** An attempt starts that should be heard from within `expectedMs`; the returned call ends it. */
  begin(now: number, expectedMs: number): () => void {
    const a: Attempt = { due: now + this.factor * Math.max(expectedMs, MIN_EXPECTED_MS), state: 'waiting' };
    this.push(a);
    this.waiting++;
    return () => {
      if (a.state === 'waiting') this.waiting--;
      else if (a.state === 'overdue') this.overdue--;
      a.state = 'ended';
    };
  }

  /**
   * Whether this router holds the endpoint for slowness now (and why), starting the hold if attempts are
   * overdue. Called for every candidate of every request: amortized O(log n) (a congested router can have
   * hundreds of attempts waiting, and counting them on each call made congestion feed on itself).
   */
  slow(now: number): string | undefined {
    while (this.heap.length > 0 && this.heap[0].due < now) {
      const a = this.pop();
      if (a.state === 'waiting') {
        a.state = 'overdue';
        this.waiting--;
        this.overdue++;
      }
    }
    // While held, the few probes it still gets keep the hold as long as any of them is overdue: the fleet's
    // signal may never gather enough slow answers to judge it, since this router stopped sending them.
    const held = this.slowUntil > now;
    if ((this.overdue >= OVERDUE_TO_HOLD && 2 * this.overdue >= this.size) || (held && this.overdue > 0)) {
      this.slowUntil = now + SLOW_HOLD_MS;
      if (!held) this.lastOverdue = this.overdue;
    }
    return this.slowUntil > now ? `${this.lastOverdue} attempts here waited over ${this.factor}× their usual time` : undefined;
  }

  /** Attempts waiting now, overdue or not. */
  get size(): number {
    return this.waiting + this.overdue;
  }

  private push(a: Attempt): void {
    const h = this.heap;
    h.push(a);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].due <= a.due) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = a;
  }

  private pop(): Attempt {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1].due < h[l].due ? l + 1 : l;
        if (h[c].due >= last.due) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
