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
/** Below this, an expected wait is jitter: never call an attempt overdue sooner. */
const MIN_EXPECTED_MS = 50;

export class PendingAttempts {
  private readonly open = new Set<{ due: number }>();
  private slowUntil = 0;
  /** Overdue count when the hold was last (re)started, for the explanation. */
  private lastOverdue = 0;

  constructor(private readonly factor: number) {}

  /** An attempt starts that should be heard from within `expectedMs`; the returned call ends it. */
  begin(now: number, expectedMs: number): () => void {
    const a = { due: now + this.factor * Math.max(expectedMs, MIN_EXPECTED_MS) };
    this.open.add(a);
    return () => this.open.delete(a);
  }

  /** Whether this router holds the endpoint for slowness now (and why), starting the hold if attempts are overdue. */
  slow(now: number): string | undefined {
    let overdue = 0;
    for (const a of this.open) if (a.due < now) overdue++;
    // While held, the few probes it still gets keep the hold as long as any of them is overdue: the fleet's
    // signal may never gather enough slow answers to judge it, since this router stopped sending them.
    const held = this.slowUntil > now;
    if ((overdue >= OVERDUE_TO_HOLD && 2 * overdue >= this.open.size) || (held && overdue > 0)) {
      this.slowUntil = now + SLOW_HOLD_MS;
      if (!held) this.lastOverdue = overdue;
    }
    return this.slowUntil > now ? `${this.lastOverdue} attempts here waited over ${this.factor}× their usual time` : undefined;
  }

  get size(): number {
    return this.open.size;
  }
}
