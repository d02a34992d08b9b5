// The router's copy of the fleet's signals (from the compacted topic, or straight from the embedded
// analytics), and what routing takes from them. A signal older than maxAgeMs is ignored: routing falls back
// to this router's own breaker and statistics, so a dead analytics role cannot freeze it.
import type { EndpointSignal, SignalPoint } from '../../telemetry/signal.ts';

export interface SignalPolicy {
  maxAgeMs: number;
  /** Share of a model's traffic kept by a down / degraded endpoint. */
  probeShare: number;
  degradedShare: number;
  /** Ramp of a recovering endpoint back to its full weight. */
  recoverMs: number;
  /** Attempts a signal must have judged before its "healthy" outweighs this router's own recent failure. */
  minRequests: number;
}

/** Points kept per endpoint: two minutes at the default interval. */
const HISTORY = 120;

export class SignalTable {
  private readonly map = new Map<string, EndpointSignal>();
  private readonly past = new Map<string, SignalPoint[]>();
  received = 0;
  lastReceivedAt = 0;

  constructor(
    readonly policy: SignalPolicy,
    /** Called with each signal that replaced an older one (breaker hints). */
    private readonly onSignal?: (s: EndpointSignal, now: number) => void,
  ) {}

  update(signals: readonly EndpointSignal[], now = Date.now()): void {
    for (const s of signals) {
      const old = this.map.get(s.endpoint_id);
      // Out-of-order deliveries (a replayed partition, two analytics instances) never move time backwards.
      if (old && old.computed_at > s.computed_at) continue;
      this.map.set(s.endpoint_id, s);
      let h = this.past.get(s.endpoint_id);
      if (!h) this.past.set(s.endpoint_id, (h = []));
      h.push({
        t: s.computed_at,
        status: s.status,
        error_rate: s.error_rate,
        rate_limited_rate: s.rate_limited_rate,
        ttft_p50_ms: s.ttft_p50_ms,
        latency_p50_ms: s.latency_p50_ms,
        attempts_per_second: s.attempts_per_second,
      });
      if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
      this.received++;
      this.onSignal?.(s, now);
    }
    this.lastReceivedAt = now;
  }

  /** The signal in force for an endpoint: the latest, if it is recent enough to trust. */
  fresh(endpointId: string, now: number): EndpointSignal | undefined {
    const s = this.map.get(endpointId);
    return s && now - s.computed_at <= this.policy.maxAgeMs ? s : undefined;
  }

  latest(endpointId: string): EndpointSignal | undefined {
    return this.map.get(endpointId);
  }

  history(endpointId: string): readonly SignalPoint[] {
    return this.past.get(endpointId) ?? [];
  }

  get size(): number {
    return this.map.size;
  }
}

/** How much of its normal weight a recovering endpoint has earned back (0..1). */
export function recoveryFraction(s: EndpointSignal, now: number, recoverMs: number): number {
  if (s.status !== 'recovering') return 1;
  return recoverMs <= 0 ? 1 : Math.min(1, Math.max(0, (now - s.status_since) / recoverMs));
}
