// The contract of topic switchboard.requests.v1: the router emits these, ingest validates and stores them.
// Metadata only: no prompt or completion text has a field here, by design.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

export const EVENT_VERSION = 1;
export const REQUESTS_TOPIC = 'switchboard.requests.v1';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Name = Type.String({ maxLength: 256 });
const Count = Type.Integer({ minimum: 0, maximum: 100_000_000 });
const Ms = Type.Number({ minimum: 0, maximum: 86_400_000 });
const Usd = Type.Number({ minimum: 0, maximum: 1_000_000 });

/**
 * The outcomes that count against a provider: its breaker, its local and fleet statistics, its uptime.
 * Everything else is a success, a 429 (counted apart), the request's own fault (a provider's 400/413, a
 * client that left) or the router's (its own error, deadline or shutdown). The one place this rule lives;
 * migration 9 writes the same list as frozen SQL, and a unit test holds the two together.
 */
export const PROVIDER_FAILURES = [
  'upstream_5xx',
  'upstream_auth', // 401/403/404 from upstream: our credentials or model mapping are wrong there
  'timeout_connect',
  'timeout_first_byte',
  'timeout_idle',
  'connection_error',
  'malformed_response',
  'stream_cut',
] as const;

export const ERROR_CLASSES = [
  'none',
  'rate_limited', // 429 from upstream
  'upstream_4xx', // provider said the request was bad (not counted against uptime, as 400/413)
  ...PROVIDER_FAILURES,
  'no_candidates',
  'policy_denied', // an organisation's or key's policy leaves no endpoint the request may use (403)
  'circuit_open',
  'client_abort',
  'router_error', // the router's own fault (e.g. it could not serialize the request): never the provider's
  'deadline', // the request's own deadline (ROUTER_REQUEST_DEADLINE_MS) passed while a provider was answering
  'shutdown', // the router was stopping and cut the request at its drain limit
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Outcomes that say nothing about the provider at all: left out of its samples, not only out of its failures. */
export const NOT_ABOUT_PROVIDER = ['client_abort', 'router_error', 'deadline', 'shutdown'] as const satisfies readonly ErrorClass[];

/**
 * Which answers measure a provider's decode speed (tokens per second after the first token): streamed ones.
 * A whole answer arrives at once, so the time after its first byte says nothing about how fast it was
 * made. The SQL form is used by the signal query and the model endpoints' figures; migration 11 writes the
 * same condition as frozen SQL (a unit test holds them together).
 */
export const THROUGHPUT_SAMPLE_SQL = "error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0";
export const measuresThroughput = (a: { streamed: boolean; latencyMs: number; ttftMs: number; completionTokens: number }): boolean =>
  a.streamed && a.latencyMs > a.ttftMs && a.completionTokens > 0;

const providerFailures: ReadonlySet<ErrorClass> = new Set(PROVIDER_FAILURES);
export const isProviderFailure = (c: ErrorClass): boolean => providerFailures.has(c);

const Common = {
  v: Type.Literal(EVENT_VERSION),
  event_id: Id,
  generation_id: Id,
  ts: Type.Integer({ minimum: 0 }), // ms since epoch, when the request (or attempt) started
  account_id: Id,
  key_id: Id,
  provider: Name, // '' when no endpoint was reached
  endpoint_id: Name,
  status: Type.Integer({ minimum: 0, maximum: 999 }), // HTTP status (0: no HTTP answer)
  error_class: Type.Union(ERROR_CLASSES.map((c) => Type.Literal(c))),
  latency_ms: Ms,
  ttft_ms: Ms, // 0 when no token arrived
  tokens_prompt: Count,
  tokens_completion: Count,
  cost_usd: Usd,
  streamed: Type.Boolean(),
};

export const AttemptEventSchema = Type.Object(
  {
    kind: Type.Literal('attempt'),
    ...Common,
    attempt: Type.Integer({ minimum: 0, maximum: 100 }),
    model: Name,
  },
  { additionalProperties: false },
);

export const RequestEventSchema = Type.Object(
  {
    kind: Type.Literal('request'),
    ...Common,
    app: Name,
    category: Name,
    requested_model: Name,
    served_model: Name,
    fee_usd: Usd,
    fallback_depth: Type.Integer({ minimum: 0, maximum: 100 }),
    attempts: Type.Integer({ minimum: 0, maximum: 100 }),
    // Optional, so events of routers that predate them stay valid.
    finish_reason: Type.Optional(Name), // as the answer gave it to the client ('' when it failed)
    native_finish_reason: Type.Optional(Name), // as the provider gave it
    upstream_id: Type.Optional(Name), // the provider's id of its answer
    external_user: Type.Optional(Name), // the request's `user`
    tokens_cached: Type.Optional(Count), // prompt tokens read from the provider's cache, when it reports them
    tokens_reasoning: Type.Optional(Count), // completion tokens spent on reasoning, when it reports them
    session_id: Type.Optional(Name), // the agent run or conversation the call belongs to
    step: Type.Optional(Name), // the step of that run, as the caller names it
    auto_choice: Type.Optional(Name), // the model switchboard/auto chose first (another may have served after a failover)
    policy: Type.Optional(Name), // the policies that refused the request (policy_denied)
  },
  { additionalProperties: false },
);

export const TelemetryEventSchema = Type.Union([RequestEventSchema, AttemptEventSchema]);

export type AttemptEvent = Static<typeof AttemptEventSchema>;
export type RequestEvent = Static<typeof RequestEventSchema>;
export type TelemetryEvent = Static<typeof TelemetryEventSchema>;

const checker = TypeCompiler.Compile(TelemetryEventSchema);
// Checked again against the schema of its own kind, so a reason names the field, not just "the union".
const byKind = { request: TypeCompiler.Compile(RequestEventSchema), attempt: TypeCompiler.Compile(AttemptEventSchema) };

export type Validation = { ok: true; event: TelemetryEvent } | { ok: false; reason: string };

/** Validate something that claims to be an event: the check ingest applies to every message. */
export function validateEvent(value: unknown): Validation {
  if (checker.Check(value)) return { ok: true, event: value };
  if (typeof value === 'object' && value !== null && 'v' in value && (value as { v: unknown }).v !== EVENT_VERSION) {
    return { ok: false, reason: `unsupported event version ${JSON.stringify((value as { v: unknown }).v)} (expected ${EVENT_VERSION})` };
  }
  const kind = (value as { kind?: unknown } | null)?.kind;
  const specific = kind === 'request' || kind === 'attempt' ? byKind[kind] : checker;
  const first = specific.Errors(value).First();
  return { ok: false, reason: first ? `${first.path || '/'}: ${first.message}` : 'not an event' };
}

/** Parse wire bytes (a Kafka message value) into a validated event. */
export function decodeEvent(bytes: Buffer | string | null): Validation {
  if (bytes === null) return { ok: false, reason: 'empty message' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  return validateEvent(parsed);
}

// Encoders compiled from the same schemas, one expression per kind: JSON.stringify and then
// fast-json-stringify were the largest costs of emitting at high rates (its per-character escape loop
// alone was 5.5% of the producer's CPU); most of our strings need no escaping, which one regex test tells.
// Anything that breaks the contract (a NaN, a missing field) is written as null, so ingest refuses the
// event with the field's name rather than a JSON syntax error.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const str = (s: unknown) => (typeof s !== 'string' ? 'null' : NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
const num = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? String(n) : 'null');
const bool = (b: unknown) => (b === true ? 'true' : b === false ? 'false' : 'null');

function compileEncoder(schema: TSchema & { properties: Record<string, TSchema>; required?: string[] }): (e: TelemetryEvent) => string {
  const required = new Set(schema.required ?? []);
  const parts = Object.entries(schema.properties).map(([name, p], i) => {
    const v = `e[${JSON.stringify(name)}]`;
    const type = p.type ?? typeof p.const;
    const value = type === 'boolean' ? `bool(${v})` : type === 'number' || type === 'integer' ? `num(${v})` : `str(${v})`;
    const field = `${JSON.stringify(`${i === 0 ? '{' : ','}${JSON.stringify(name)}:`)} + ${value}`;
    // An optional field left out is left out of the line (null would not pass the contract).
    return required.has(name) ? field : `(${v} === undefined ? '' : ${field})`;
  });
  return new Function('str', 'num', 'bool', `return (e) => ${parts.join(' + ')} + '}';`)(str, num, bool) as (e: TelemetryEvent) => string;
}

const encoders = { request: compileEncoder(RequestEventSchema), attempt: compileEncoder(AttemptEventSchema) };

export const encodeEvent = (event: TelemetryEvent): string => (event.kind === 'request' ? encoders.request(event) : encoders.attempt(event));

/**
 * A Kafka message carries one or more events as NDJSON (one event per line). Many events per message is
 * what lets a producer keep up: kafkajs' cost is per message, not per byte.
 */
export const encodeEvents = (events: readonly TelemetryEvent[]): string => events.map(encodeEvent).join('\n');

/** Decode every line of a message; a message that is not text lines decodes as one invalid line. */
export function decodeMessage(bytes: Buffer | null): { line: string | Buffer; result: Validation }[] {
  if (bytes === null || bytes.length === 0) return [{ line: bytes ?? Buffer.alloc(0), result: { ok: false, reason: 'empty message' } }];
  const text = bytes.toString('utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  // A single line keeps the original bytes, so a dead letter is byte for byte what was sent.
  if (lines.length <= 1) return [{ line: bytes, result: decodeEvent(bytes) }];
  return lines.map((line) => ({ line, result: decodeEvent(line) }));
}
