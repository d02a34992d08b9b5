// Builders for the telemetry events of one request: one per upstream attempt and one for the request.
import { eventId } from '../core/ids.ts';
import { EVENT_VERSION, type AttemptEvent, type ErrorClass, type RequestEvent } from '../telemetry/event.ts';
import type { Endpoint } from '../catalog/catalog.ts';
import type { Usage } from './upstream/types.ts';

export interface RequestIdentity {
  generationId: string;
  accountId: string;
  keyId: string;
  streamed: boolean;
}

export interface Outcome {
  status: number;
  errorClass: ErrorClass;
  latencyMs: number;
  ttftMs: number;
  tokensPrompt: number;
  tokensCompletion: number;
  costUsd: number;
}

const r3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** The fields every event of a request shares: identity, where it went, and how it ended. */
function common(id: RequestIdentity, startedAt: number, endpoint: Endpoint | undefined, o: Outcome) {
  return {
    v: EVENT_VERSION,
    event_id: eventId(),
    generation_id: id.generationId,
    ts: startedAt,
    account_id: id.accountId,
    key_id: id.keyId,
    provider: endpoint?.provider ?? '',
    endpoint_id: endpoint?.id ?? '',
    status: o.status,
    error_class: o.errorClass,
    latency_ms: r3(o.latencyMs),
    ttft_ms: r3(o.ttftMs),
    tokens_prompt: o.tokensPrompt,
    tokens_completion: o.tokensCompletion,
    cost_usd: o.costUsd,
    streamed: id.streamed,
  } as const;
}

export function attemptEvent(id: RequestIdentity, index: number, startedAt: number, endpoint: Endpoint, o: Outcome): AttemptEvent {
  return { kind: 'attempt', ...common(id, startedAt, endpoint, o), attempt: index, model: endpoint.model };
}

/** What an answer says about itself (finish reasons, the provider's id, token details), for its request's record. */
export interface AnswerFacts {
  finishReason?: string;
  nativeFinishReason?: string;
  upstreamId?: string;
  usage?: Partial<Usage>;
}

const short = (s: string | undefined) => (s === undefined ? undefined : s.slice(0, 256));

export function requestEvent(
  id: RequestIdentity,
  startedAt: number,
  fields: {
    app: string;
    category: string;
    requestedModel: string;
    endpoint: Endpoint | undefined;
    attempts: number;
    fallbackDepth: number;
    feeUsd: number;
    externalUser: string | undefined;
    session: { id: string; step: string | undefined } | undefined;
    /** The model switchboard/auto chose first, when it chose. */
    autoChoice?: string;
    /** The policies that refused the request. */
    policy?: string;
    answer?: AnswerFacts;
  },
  o: Outcome,
): RequestEvent {
  const event: RequestEvent = {
    kind: 'request',
    ...common(id, startedAt, fields.endpoint, o),
    app: fields.app,
    category: fields.category,
    requested_model: fields.requestedModel,
    served_model: fields.endpoint?.model ?? '',
    fee_usd: fields.feeUsd,
    fallback_depth: fields.fallbackDepth,
    attempts: fields.attempts,
  };
  const a = fields.answer;
  const optional = {
    finish_reason: short(a?.finishReason),
    native_finish_reason: short(a?.nativeFinishReason),
    upstream_id: short(a?.upstreamId),
    external_user: short(fields.externalUser),
    tokens_cached: a?.usage?.cached,
    tokens_reasoning: a?.usage?.reasoning,
    session_id: fields.session?.id,
    step: fields.session?.step,
    auto_choice: fields.autoChoice,
    policy: short(fields.policy),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (event as Record<string, unknown>)[k] = v;
  return event;
}

/** USD for a number of tokens at an endpoint's per-million prices, rounded to a nano-dollar. */
export function costOf(e: Endpoint, prompt: number, completion: number): number {
  return Math.round(((prompt * e.pricePrompt + completion * e.priceCompletion) / 1e6) * 1e9) / 1e9;
}
