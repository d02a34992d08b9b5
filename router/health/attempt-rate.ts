// A router's attempts to one endpoint: counted over the last minute (this router's share of the fleet's
// attempts sets its part of a learned traffic cap) and paced against that part.
import { SlidingCount } from '../../core/sliding-count.ts';

export class AttemptRate extends SlidingCount {
  /** The spacing in force (ms; 0 while no cap applies), when the next attempt is due on schedule, and the latest attempt. */
  private spacingMs = 0;
  private due = -Infinity;
  private last = -Infinity;

  override note(now: number): void {
    this.due = Math.max(this.due, now) + this.spacingMs;
    this.last = Math.max(this.last, now);
    super.note(now);
  }

  /**
   * Whether this router has used its part of the cap (`capRps`): attempts are paced at 1/capRps apart on
   * average, on a schedule (each attempt moves the next due time one spacing on), and one may come up to
   * half a spacing early. Counting per second instead let a part of 1.2/s through as 2 every second, and
   * three routers' bursts then met inside the provider's one-second window: 429s enough to flip it to
   * degraded. Spacing from the last attempt alone wasted every gap left by the random arrivals: the fleet
   * used 40–70% of its cap.
   */
  atCap(now: number, capRps: number): boolean {
    this.spacingMs = 1000 / capRps;
    // A schedule never runs further ahead than a paced sender's (one and a half spacings past the latest
    // attempt): attempts made while no cap applied, or under a smaller part, must not hold it back longer.
    this.due = Math.min(this.due, this.last + 1.5 * this.spacingMs);
    return now < this.due - this.spacingMs / 2;
  }
}
