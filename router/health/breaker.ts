// Per-endpoint circuit breaker, one per router process: it reacts first, before any fleet-wide signal.
// Opens on a run of consecutive failures or on a failure ratio over a window with enough requests; after
// a cooldown it lets one probe through (half-open), and closes again on the probe's success.

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  consecutiveFailures: number;
  failureRatio: number;
  minRequests: number;
  windowMs: number;
  cooldownMs: number;
}

export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  private cooldown: number;
  private probeInFlight = false;
  /** Outcomes within the window, as [time, failed]. */
  private window: Array<[number, boolean]> = [];
  private windowStart = 0;

  constructor(private readonly opts: BreakerOptions) {
    this.cooldown = opts.cooldownMs;
  }

  state(now = Date.now()): BreakerState {
    if (this.stateValue === 'open' && now - this.openedAt >= this.cooldown) this.stateValue = 'half_open';
    return this.stateValue;
  }

  /** May a request go to this endpoint now? In half-open, only one probe at a time is let through. */
  tryAcquire(now = Date.now()): boolean {
    const s = this.state(now);
    if (s === 'closed') return true;
    if (s === 'open' || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  /** Would tryAcquire succeed (without taking the probe)? */
  available(now = Date.now()): boolean {
    const s = this.state(now);
    return s === 'closed' || (s === 'half_open' && !this.probeInFlight);
  }

  onSuccess(now = Date.now()): void {
    this.push(now, false);
    this.consecutive = 0;
    if (this.stateValue !== 'closed') {
      this.stateValue = 'closed';
      this.cooldown = this.opts.cooldownMs;
      this.window = [];
      this.windowStart = 0;
    }
    this.probeInFlight = false;
  }

  /** `escalate`: a failed probe lengthens the cooldown. Not while a fleet signal watches the endpoint: its
   * probe share already keeps traffic small, and a long local cooldown would only delay seeing recovery. */
  onFailure(now = Date.now(), escalate = true): void {
    this.push(now, true);
    this.consecutive++;
    const wasProbe = this.stateValue === 'half_open';
    this.probeInFlight = false;
    if (wasProbe) {
      // A failed probe re-opens for longer, up to a minute, so a dead endpoint is not hammered.
      if (escalate) this.cooldown = Math.min(this.cooldown * 2, 60_000);
      this.open(now);
      return;
    }
    if (this.stateValue === 'open') return;
    if (this.consecutive >= this.opts.consecutiveFailures) return this.open(now);
    const total = this.window.length - this.windowStart;
    if (total >= this.opts.minRequests) {
      let failed = 0;
      for (let i = this.windowStart; i < this.window.length; i++) if (this.window[i][1]) failed++;
      if (failed / total > this.opts.failureRatio) this.open(now);
    }
  }

  /** The fleet saw the endpoint recover after this breaker opened: probe now, with the base cooldown. */
  nudge(recoveredAt: number): void {
    if (this.stateValue !== 'open' || recoveredAt <= this.openedAt) return;
    this.stateValue = 'half_open';
    this.cooldown = this.opts.cooldownMs;
  }

  /** A request that took the probe but ended without a verdict on the endpoint (client left). */
  release(): void {
    this.probeInFlight = false;
  }

  private open(now: number): void {
    this.stateValue = 'open';
    this.openedAt = now;
  }

  private push(now: number, failed: boolean): void {
    this.window.push([now, failed]);
    while (this.windowStart < this.window.length && now - this.window[this.windowStart][0] > this.opts.windowMs) this.windowStart++;
    if (this.windowStart > 1024) {
      this.window = this.window.slice(this.windowStart);
      this.windowStart = 0;
    }
  }
}
