// The contract of topic switchboard.signals.v1: analytics publishes one signal per endpoint (the message
// key is the endpoint id, so compaction keeps the latest of each), routers fold them into routing.
// The same shape is the body of GET /api/v1/providers/status.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { Nullable } from '../core/nullable.ts';

export const SIGNAL_VERSION = 1;
export const ENDPOINT_STATUSES = ['healthy', 'degraded', 'down', 'recovering'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Down and degraded endpoints are held: routers give them only a probe share, and nothing is learned from their traffic. */
export const isHeld = (status: EndpointStatus | undefined): boolean => status === 'down' || status === 'degraded';

const Status = Type.Union(ENDPOINT_STATUSES.map((s) => Type.Literal(s)));

const Rate = Type.Number({ minimum: 0, maximum: 1 });
const Ms = Nullable(Type.Number({ minimum: 0 }));

export const EndpointSignalSchema = Type.Object(
  {
    v: Type.Literal(SIGNAL_VERSION),
    endpoint_id: Type.String({ minLength: 1, maxLength: 256 }),
    provider: Type.String({ maxLength: 256 }),
    model: Type.String({ maxLength: 256 }),
    /** When analytics computed it (ms since epoch): routers ignore signals older than SIGNALS_MAX_AGE_MS. */
    computed_at: Type.Integer({ minimum: 0 }),
    status: Status,
    /** When the endpoint entered this status (ms since epoch); a recovering endpoint ramps up from here. */
    status_since: Type.Integer({ minimum: 0 }),
    /** Why it has this status, in words. */
    reason: Type.String({ maxLength: 500 }),
    window_s: Type.Number({ minimum: 0 }),
    /** Attempts judged (the latest in the window), and attempts per second over the whole window. */
    requests: Type.Integer({ minimum: 0 }),
    attempts_per_second: Type.Number({ minimum: 0 }),
    /** Failures / (successes + failures): 429 and 400/413 are neither, as in OpenRouter's uptime. */
    error_rate: Rate,
    rate_limited_rate: Rate,
    errors_by_class: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
    latency_p50_ms: Ms,
    latency_p95_ms: Ms,
    ttft_p50_ms: Ms,
    ttft_p95_ms: Ms,
    tokens_per_second: Ms,
    uptime_5m: Nullable(Rate),
    uptime_30m: Nullable(Rate),
    uptime_1d: Nullable(Rate),
    /** What "normal" is for this endpoint: its own time to first token over the baseline minutes, and its peers' now. */
    baseline_ttft_p50_ms: Ms,
    peer_ttft_p50_ms: Ms,
    /** Learned fleet-wide traffic cap in attempts per second (null: none). */
    cap_rps: Nullable(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type EndpointSignal = Static<typeof EndpointSignalSchema>;

/** One point of an endpoint's recent past, kept by routers for the status page's sparklines. */
export const SignalPointSchema = Type.Object({
  t: Type.Integer(),
  status: Status,
  error_rate: Rate,
  rate_limited_rate: Rate,
  ttft_p50_ms: Ms,
  latency_p50_ms: Ms,
  attempts_per_second: Type.Number({ minimum: 0 }),
});
export type SignalPoint = Static<typeof SignalPointSchema>;

const check = TypeCompiler.Compile(EndpointSignalSchema);

/** A message of the signals topic (or the hub) checked against its schema, or why it is not one (a reader skips it and counts it). */
export function decodeChecked<T extends TSchema>(schema: TypeCheck<T>, bytes: Buffer | string | null): { ok: true; value: Static<T> } | { ok: false; reason: string } {
  if (bytes === null) return { ok: false, reason: 'tombstone' };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (schema.Check(value)) return { ok: true, value };
  const first = schema.Errors(value).First();
  return { ok: false, reason: first ? `${first.path || '/'}: ${first.message}` : 'invalid' };
}

/** A signal message from the topic, or why it is not one. */
export function decodeSignal(bytes: Buffer | null): { ok: true; signal: EndpointSignal } | { ok: false; reason: string } {
  const d = decodeChecked(check, bytes);
  return d.ok ? { ok: true, signal: d.value } : d;
}

export const encodeSignal = (s: EndpointSignal): string => JSON.stringify(s);
