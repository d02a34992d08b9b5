import type { Endpoint } from '../../catalog/catalog.ts';
import { CircuitBreaker, type BreakerOptions } from './breaker.ts';
import { EndpointStats } from './stats.ts';
import { AttemptRate } from './attempt-rate.ts';
import { PendingAttempts } from './pending.ts';

export interface EndpointHealth {
  breaker: CircuitBreaker;
  stats: EndpointStats;
  /** Attempts sent lately, for this router's share of a learned traffic cap. */
  rate: AttemptRate;
  /** Attempts waiting for their first answer, to see slowness before they end. */
  pending: PendingAttempts;
}

/** One router's knowledge of every endpoint, created on first use. */
export class HealthRegistry {
  private readonly map = new Map<string, EndpointHealth>();

  constructor(
    private readonly breakerOptions: BreakerOptions,
    /** An attempt waiting this many times its endpoint's usual time is overdue (SIGNALS_SLOW_FACTOR). */
    private readonly slowFactor = 3,
  ) {}

  get(endpoint: Endpoint | string): EndpointHealth {
    const id = typeof endpoint === 'string' ? endpoint : endpoint.id;
    let h = this.map.get(id);
    if (!h) {
      h = { breaker: new CircuitBreaker(this.breakerOptions), stats: new EndpointStats(), rate: new AttemptRate(), pending: new PendingAttempts(this.slowFactor) };
      this.map.set(id, h);
    }
    return h;
  }

  entries(): IterableIterator<[string, EndpointHealth]> {
    return this.map.entries();
  }
}
