// Events counted in 100 ms slots over a minute: a router's attempts to an endpoint (its share of a fleet-wide
// traffic cap) and the simulator's arrivals (its capacity limit).
const SLOT_MS = 100;
const SLOTS = 600;

export class SlidingCount {
  private readonly counts = new Uint32Array(SLOTS);
  private readonly stamps = new Float64Array(SLOTS).fill(-1);
  note(now: number): void {
    const t = Math.floor(now / SLOT_MS);
    const i = t % SLOTS;
    if (this.stamps[i] !== t) {
      this.stamps[i] = t;
      this.counts[i] = 0;
    }
    this.counts[i]++;
  }

  /** Attempts in the last `ms` milliseconds (up to a minute). */
  count(now: number, ms: number): number {
    const t = Math.floor(now / SLOT_MS);
    const n = Math.min(SLOTS, Math.ceil(ms / SLOT_MS));
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const i = (((t - k) % SLOTS) + SLOTS) % SLOTS;
      if (this.stamps[i] === t - k) sum += this.counts[i];
    }
    return sum;
  }
}
