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

/** The failure-ratio window is this many slots: outcomes leave it within a fiftieth of its length. */
const WINDOW_SLOTS = 50;

export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  private cooldown: number;
  private probeInFlight = false;
  /**
   * Outcomes over the window, counted in WINDOW_SLOTS slots of windowMs / WINDOW_SLOTS each. A list of every
   * outcome held tens of thousands of small objects per busy endpoint, each made on the request path and
   * kept past a young-generation collection; counts make the window's cost fixed.
   */
  private readonly slotMs: number;
  private readonly slotOk = new Uint32Array(WINDOW_SLOTS);
  private readonly slotFailed = new Uint32Array(WINDOW_SLOTS);
  private readonly slotStamp = new Float64Array(WINDOW_SLOTS).fill(-1);

  constructor(private readonly opts: BreakerOptions) {
    this.cooldown = opts.cooldownMs;
    this.slotMs = Math.max(1, opts.windowMs / WINDOW_SLOTS);
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
      this.slotStamp.fill(-1);
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
    if (this.consecutive >= this.opts.consecutiveFailures) {
      this.open(now);
      return;
    }
    let total = 0;
    let failed = 0;
    const t = Math.floor(now / this.slotMs);
    for (let i = 0; i < WINDOW_SLOTS; i++) {
      if (this.slotStamp[i] <= t - WINDOW_SLOTS) continue;
      total += this.slotOk[i] + this.slotFailed[i];
      failed += this.slotFailed[i];
    }
    if (total >= this.opts.minRequests && failed / total > this.opts.failureRatio) this.open(now);
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
    const t = Math.floor(now / this.slotMs);
    const i = t % WINDOW_SLOTS;
    if (this.slotStamp[i] !== t) {
      this.slotStamp[i] = t;
      this.slotOk[i] = 0;
      this.slotFailed[i] = 0;
    }
    if (failed) this.slotFailed[i]++;
    else this.slotOk[i]++;
  }
}
