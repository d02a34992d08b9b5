// Fault modes the simulator can be switched into at run time (PUT /admin/faults), per provider or endpoint.
import { Type, type Static } from '@sinclair/typebox';
import { SlidingCount } from '../../core/sliding-count.ts';

export const FAULT_MODES = [
  'error', // answers `status` (default 500) with an error body
  'rate_limit', // 429 with Retry-After
  'server_error', // 502/503 (status picks)
  'reset', // destroys the connection without an answer
  'hang', // accepts and never answers
  'slow_stream', // decode (time between tokens) slowed by `multiplier` (default 20); first token on time
  'latency', // every delay multiplied by `multiplier` (default 10)
  'cut_stream', // answers, then drops the connection part-way through the body
  'malformed_json', // 200 with a body that is not valid JSON (or a broken SSE data line)
] as const;

export const FaultSchema = Type.Object(
  {
    provider: Type.String({ minLength: 1 }),
    /** Limit to one model on that provider; absent: every model it serves. */
    model: Type.Optional(Type.String({ minLength: 1 })),
    mode: Type.Union(FAULT_MODES.map((m) => Type.Literal(m))),
    /** Share of requests affected, 0..1. */
    rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
    retryAfterSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
    multiplier: Type.Optional(Type.Number({ minimum: 1, maximum: 100_000 })),
    /** rate_limit only: a capacity. Requests beyond this many in the last second get 429; those within pass. */
    maxRps: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
export type Fault = Static<typeof FaultSchema>;

export class FaultBoard {
  private faults: Fault[] = [];
  private readonly arrivals = new Map<string, SlidingCount>();

  set(fault: Fault): void {
    this.faults = this.faults.filter((f) => !(f.provider === fault.provider && f.model === fault.model));
    this.faults.push(fault);
  }

  clear(provider?: string, model?: string): void {
    this.faults = provider === undefined ? [] : this.faults.filter((f) => !(f.provider === provider && (model === undefined || f.model === model)));
  }

  list(): readonly Fault[] {
    return this.faults;
  }

  /** The fault that strikes this request, if any: the most specific one wins, then its rate is rolled. */
  pick(provider: string, model: string, random: () => number = Math.random): Fault | undefined {
    if (this.faults.length === 0) return undefined;
    const exact = this.faults.find((f) => f.provider === provider && f.model === model);
    const f = exact ?? this.faults.find((x) => x.provider === provider && x.model === undefined);
    if (!f) return undefined;
    if (f.mode === 'rate_limit' && f.maxRps !== undefined) {
      const key = `${provider}|${model}`;
      let c = this.arrivals.get(key);
      if (!c) this.arrivals.set(key, (c = new SlidingCount()));
      const now = Date.now();
      // Only the requests it accepted count towards its capacity, as a provider's token bucket would.
      if (c.count(now, 1000) >= f.maxRps) return f;
      c.note(now);
      return undefined;
    }
    return random() < (f.rate ?? 1) ? f : undefined;
  }
}
