// One chat request's state as it travels through routing, attempts and the answer, and the accounting
// that closes it: the spend reservation, the request's telemetry event, and the answer's body.
import type { FastifyReply } from 'fastify';
import type { Catalog, Endpoint } from '../catalog/catalog.ts';
import type { Config } from '../core/config.ts';
import { ApiError } from '../core/errors.ts';
import { chargedUsd } from '../core/money.ts';
import type { Metrics } from '../core/metrics.ts';
import type { StopSignal } from '../core/stop-signal.ts';
import type { TelemetrySink } from '../telemetry/bus.ts';
import { isProviderFailure, type ErrorClass } from '../telemetry/event.ts';
import type { AttemptFailure } from './attempt.ts';
import type { SpendHold, SpendLedger } from './auth/spend.ts';
import { checkBudgets, periodEntries } from './auth/budgets.ts';
import type { Budget } from '../governance/budgets.ts';
import type { NamedPolicy } from '../governance/policy.ts';
import type { ChatRequest } from './chat-schema.ts';
import { costOf, requestEvent, type AnswerFacts, type Outcome, type RequestIdentity } from './events.ts';
import type { HealthRegistry } from './health/registry.ts';
import type { PreferenceScores } from './routing/preference-scores.ts';
import type { SignalTable } from './health/signals.ts';
import type { RoutingWeights } from './routing/plan.ts';
import type { UpstreamClient, UpstreamTarget } from './upstream/client.ts';
import type { AssistantMessage, Usage } from './upstream/types.ts';

export interface ChatDeps {
  config: Config;
  catalog: Catalog;
  health: HealthRegistry;
  upstream: UpstreamClient;
  target: (e: Endpoint) => UpstreamTarget;
  sink: TelemetrySink;
  metrics: Metrics;
  spend: SpendLedger;
  weights: () => RoutingWeights;
  /** The fleet's signals (absent: this router decides on its own knowledge alone). */
  signals?: SignalTable;
  /** Revealed-preference tables per category, for `switchboard/auto` (absent: auto answers 503). */
  preference?: PreferenceScores;
  /** Aborted when the router gives up draining: requests still running end (streams with an error chunk). */
  stopping?: StopSignal;
  random?: () => number;
}

export interface Caller {
  accountId: string;
  keyId: string;
  /** The key's all-time spend limit in USD (null: none, or its limit resets: then it is one of `budgets`). */
  spendLimitUsd: number | null;
  /** The organisation's and key's policies in force, the key's first. */
  policies: readonly NamedPolicy[];
  /** The budgets per period the request is held to. */
  budgets: readonly Budget[];
  app: string;
  category: string;
  /** The agent run or conversation the call belongs to, and its step (X-Switchboard-Session / session_id, X-Switchboard-Step). */
  session: { id: string; step: string | undefined } | undefined;
  /** The key's step → category settings for switchboard/auto (the request's own come first). */
  autoSteps: Record<string, string> | undefined;
}

/** Whether the answer shows the model's reasoning: asked for (`reasoning` or `include_reasoning`), and not excluded. */
export const showsReasoning = (req: ChatRequest): boolean => req.reasoning?.exclude !== true && (req.reasoning !== undefined || req.include_reasoning === true);

/** Chat completions, or the legacy text completions (`prompt` in, `choices[].text` out). */
export type AnswerShape = 'chat' | 'text';

export interface ChatContext {
  deps: ChatDeps;
  req: ChatRequest;
  caller: Caller;
  reply: FastifyReply;
  shape: AnswerShape;
  /** The model as the client asked for it (`model`, else the first of `models`). */
  requested: string;
  id: RequestIdentity;
  /** Wall clock at arrival (ms since epoch), and the monotonic clock for durations. */
  startedAt: number;
  t0: number;
  prompt: number;
  maxTokens: number | undefined;
  /** The routing explanation, when the request asked for it. */
  explain: unknown;
  /** For switchboard/auto: the model it chose first. */
  autoChoice?: string;
  abort: AbortController;
  hold: SpendHold | undefined;
  attempts: number;
  failures: { f: AttemptFailure; e: Endpoint }[];
}

/**
 * The most this request can cost on any of its candidates: the prompt estimate, and the completion limit
 * it asks for or else the endpoint's own (never more than its context leaves), at the endpoint's prices,
 * with the platform fee.
 */
export function worstCaseUsd(ctx: ChatContext, candidates: readonly Endpoint[]): number {
  let most = 0;
  for (const e of candidates) {
    const room = Math.max(0, e.contextLength - ctx.prompt);
    const cap = e.maxCompletionTokens > 0 ? Math.min(e.maxCompletionTokens, room) : room;
    const completion = Math.min(ctx.maxTokens ?? cap, cap);
    most = Math.max(most, costOf(e, ctx.prompt, completion));
  }
  return most * (1 + ctx.deps.config.platformFeeRate);
}

/** Holds the request's worst case against its key's limit and its budgets, or refuses it with 402. */
export function reserveSpend(ctx: ChatContext, candidates: readonly Endpoint[]): void {
  const { spend } = ctx.deps;
  const limit = ctx.caller.spendLimitUsd;
  try {
    checkBudgets(spend, ctx.caller.budgets, ctx.startedAt);
  } catch (err) {
    // A budget is a policy: its refusals are recorded, and audited, like the policy's other refusals.
    throw failWith(ctx, err as ApiError);
  }
  ctx.hold = spend.reserve(ctx.caller.keyId, limit, worstCaseUsd(ctx, candidates), periodEntries(ctx.caller.keyId, ctx.startedAt));
  if (ctx.hold === undefined) {
    const used = spend.used(ctx.caller.keyId);
    // Refused at the door, like a rate limit: nothing was routed, so there is no request to record.
    throw new ApiError(402, 'insufficient_quota', 'spend_limit_reached', `this key has spent or holds for requests in flight $${used.toFixed(6)} of its $${limit} limit`);
  }
}

/** Emit the request event of a successful (or cut) request and charge it; returns the platform fee. */
export function finish(ctx: ChatContext, e: Endpoint, depth: number, o: Outcome, answer: AnswerFacts): number {
  const { deps } = ctx;
  const fee = Math.round(o.costUsd * deps.config.platformFeeRate * 1e9) / 1e9;
  deps.sink.emit(
    requestEvent(
      ctx.id,
      ctx.startedAt,
      {
        app: ctx.caller.app,
        category: ctx.caller.category,
        requestedModel: ctx.requested,
        endpoint: e,
        attempts: ctx.attempts,
        fallbackDepth: depth,
        feeUsd: fee,
        externalUser: ctx.req.user,
        session: ctx.caller.session,
        autoChoice: ctx.autoChoice,
        answer,
      },
      o,
    ),
  );
  ctx.hold?.settle(o.costUsd + fee);
  deps.metrics.requestDuration.observe({ streamed: String(ctx.id.streamed), outcome: o.status === 200 ? 'success' : 'error' }, (performance.now() - ctx.t0) / 1000);
  return fee;
}

/** The telemetry class of the errors a request's own routing ends with. */
const CLASS_OF_CODE: Record<string, ErrorClass> = {
  no_available_endpoints: 'circuit_open',
  policy_denied: 'policy_denied',
  budget_exhausted: 'policy_denied',
  upstream_rate_limited: 'rate_limited',
  upstream_rejected: 'upstream_4xx',
};

/** Emit the request event of a request that ends with an error (nothing charged: handleChat releases its hold), and return the error. */
export function failWith(ctx: ChatContext, err: ApiError, e?: Endpoint, errorClass?: ErrorClass): ApiError {
  const { deps } = ctx;
  const cls: ErrorClass = errorClass ?? CLASS_OF_CODE[err.code] ?? (err.status === 502 ? 'upstream_5xx' : 'no_candidates');
  const policies = cls === 'policy_denied' ? (err.extra.metadata?.policies as string[] | undefined) : undefined;
  const latency = performance.now() - ctx.t0;
  deps.sink.emit(
    requestEvent(
      ctx.id,
      ctx.startedAt,
      {
        app: ctx.caller.app,
        category: ctx.caller.category,
        requestedModel: ctx.requested,
        endpoint: e,
        attempts: ctx.attempts,
        fallbackDepth: Math.max(0, ctx.attempts - 1),
        feeUsd: 0,
        externalUser: ctx.req.user,
        session: ctx.caller.session,
        autoChoice: ctx.autoChoice,
        policy: policies?.join(', '),
      },
      { status: err.status, errorClass: cls, latencyMs: latency, ttftMs: 0, tokensPrompt: 0, tokensCompletion: 0, costUsd: 0 },
    ),
  );
  deps.metrics.requestDuration.observe({ streamed: String(ctx.id.streamed), outcome: 'error' }, latency / 1000);
  err.extra.headers = { ...err.extra.headers, 'x-switchboard-generation-id': ctx.id.generationId };
  return err;
}

export function setRouteHeaders(ctx: ChatContext, e: Endpoint): void {
  ctx.reply.header('x-switchboard-generation-id', ctx.id.generationId);
  ctx.reply.header('x-switchboard-provider', e.provider);
  ctx.reply.header('x-switchboard-endpoint', e.id);
}

export const providerName = (ctx: ChatContext, e: Endpoint): string => ctx.deps.catalog.providerName(e.provider);

/**
 * The answer's usage as OpenRouter gives it. `cost` is what the key is charged for this request, the
 * provider's price and the platform fee (charged per request here, as there are no credit purchases to put
 * it on), so the sum of `cost` over a key's requests is its `usage`; `cost_details` splits it.
 */
export function usageBody(o: Pick<Outcome, 'tokensPrompt' | 'tokensCompletion' | 'costUsd'>, fee: number, reported?: Partial<Usage>) {
  return {
    prompt_tokens: o.tokensPrompt,
    completion_tokens: o.tokensCompletion,
    total_tokens: o.tokensPrompt + o.tokensCompletion,
    cost: chargedUsd(o.costUsd, fee),
    is_byok: false,
    cost_details: { upstream_inference_cost: o.costUsd, platform_fee: fee },
    prompt_tokens_details: { cached_tokens: reported?.cached ?? 0 },
    completion_tokens_details: { reasoning_tokens: reported?.reasoning ?? 0 },
  };
}

export function completionBody(ctx: ChatContext, e: Endpoint, message: AssistantMessage, finishReason: string, o: Outcome, fee: number, reported?: Partial<Usage>) {
  const text = ctx.shape === 'text';
  const { reasoning, ...rest } = message;
  const shown: AssistantMessage = reasoning !== undefined && showsReasoning(ctx.req) ? message : rest;
  const body: Record<string, unknown> = {
    id: ctx.id.generationId,
    object: text ? 'text_completion' : 'chat.completion',
    created: Math.floor(ctx.startedAt / 1000),
    model: e.model,
    provider: providerName(ctx, e),
    choices: [
      text ? { index: 0, text: message.content ?? '', finish_reason: finishReason, logprobs: null } : { index: 0, message: shown, finish_reason: finishReason, logprobs: null },
    ],
    usage: usageBody(o, fee, reported),
  };
  if (ctx.explain) body.routing = ctx.explain;
  return body;
}

/**
 * What a failed attempt tells this router about the endpoint (before the first token or mid-stream). Only a
 * provider failure (telemetry/event.ts) counts against it; a 429 cools it; anything else frees its slot.
 */
export function recordFailure(ctx: ChatContext, e: Endpoint, f: Pick<AttemptFailure, 'errorClass' | 'retryAfterMs'>, now: number): void {
  const { deps } = ctx;
  const h = deps.health.get(e);
  deps.metrics.upstreamAttempts.inc({ provider: e.provider, error_class: f.errorClass });
  if (isProviderFailure(f.errorClass)) {
    if (f.errorClass === 'stream_cut') h.stats.lastCutAt = now;
    h.stats.record('failure', now);
    h.breaker.onFailure(now, deps.signals?.fresh(e.id, now) === undefined);
    return;
  }
  if (f.errorClass === 'rate_limited') {
    h.stats.coolUntil = now + (f.retryAfterMs ?? 1000);
    h.stats.record('rate_limited', now);
  } else if (f.errorClass === 'upstream_4xx') h.stats.record('client_error', now);
  h.breaker.release();
}

export function success(ctx: ChatContext, e: Endpoint, ttftMs: number, latencyMs: number, tokensPrompt: number, tokensCompletion: number): Outcome {
  const { deps } = ctx;
  const h = deps.health.get(e);
  const now = Date.now();
  h.breaker.onSuccess(now);
  h.stats.record('success', now, { latencyMs, ttftMs, completionTokens: tokensCompletion, streamed: ctx.id.streamed });
  deps.metrics.upstreamAttempts.inc({ provider: e.provider, error_class: 'none' });
  deps.metrics.upstreamTtft.observe({ provider: e.provider }, ttftMs / 1000);
  return { status: 200, errorClass: 'none', latencyMs, ttftMs, tokensPrompt, tokensCompletion, costUsd: costOf(e, tokensPrompt, tokensCompletion) };
}
