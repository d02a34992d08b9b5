// POST /v1/chat/completions, after validation and authentication: plan the route, reserve the request's
// worst-case spend, try endpoints in order within the retry budget, answer whole or streamed, and emit one
// telemetry event per attempt and one for the request. Telemetry is a hand-off: nothing here waits for it.
import type { FastifyReply } from 'fastify';
import type { Endpoint } from '../catalog/catalog.ts';
import { ApiError, badRequest } from '../core/errors.ts';
import { CATEGORIES, isCategory } from './classify.ts';
import { generationId } from '../core/ids.ts';
import { estimateTokens, promptTokens, requestedMaxTokens } from '../core/tokens.ts';
import { attempt, RouterAbort } from './attempt.ts';
import {
  completionBody,
  failWith,
  finish,
  recordFailure,
  reserveSpend,
  setRouteHeaders,
  success,
  type AnswerShape,
  type ChatContext,
  type ChatDeps,
  type Caller,
} from './chat-context.ts';
import { finalError, noRouteError } from './chat-errors.ts';
import { streamOut } from './chat-stream.ts';
import { attemptEvent } from './events.ts';
import type { EndpointHealth } from './health/registry.ts';
import { withMiddleOut } from './routing/middle-out.ts';
import { type ModelChoice, requestedModel, routingOf, type RequestRouting } from './routing/options.ts';
import { acrossModels, ASSUMED_COMPLETION_TOKENS, planRoute, RECENT_FAILURE_MS, type RouteNeeds, type RoutePlan } from './routing/plan.ts';
import { type AutoExplanation, chooseAuto } from './routing/auto.ts';
import type { ChatRequest } from './chat-schema.ts';
import { defaultSort } from '../governance/policy.ts';

export type { Caller, ChatDeps } from './chat-context.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One chat request as the route hands it over; `shape: 'text'` answers as the legacy completions API. */
export interface ChatCall {
  req: ChatRequest;
  caller: Caller;
  reply: FastifyReply;
  shape: AnswerShape;
}

export async function handleChat(deps: ChatDeps, call: ChatCall): Promise<unknown> {
  const { reply, shape } = call;
  let caller = call.caller;
  const startedAt = Date.now();
  const stream = call.req.stream === true;
  const routing = withPolicySort(routingOf(deps.catalog, call.req), caller.policies);
  let auto: AutoExplanation | undefined;
  if (routing.auto) {
    // The category the auto model names (else the one its step maps to) is the request's workload:
    // telemetry records it too.
    caller = { ...caller, category: routing.auto.category ?? stepCategory(call.req, caller) ?? caller.category };
    const choice = chooseAutoFor(deps, call.req, routing, caller, startedAt);
    const chosen = new Set(choice.models.map((m) => m.id));
    routing.models = [...choice.models.map((model) => ({ model, sort: routing.sort, free: false })), ...routing.models.filter((m) => !chosen.has(m.model.id))];
    auto = choice.explanation;
    reply.header('x-switchboard-auto', `${auto.chosen.model}${auto.explored ? ' (exploring)' : ''}`);
  }
  const contexts = routing.models.flatMap((m) => m.model.endpoints.map((e) => e.contextLength));
  const { req, applied } = withMiddleOut(call.req, contexts, requestedMaxTokens(call.req));
  if (applied) reply.header('x-switchboard-middle-out', `removed ${applied.removedMessages} messages (${applied.removedTokens} tokens) from the middle`);
  const ctx: ChatContext = {
    deps,
    req,
    caller,
    reply,
    shape,
    requested: requestedModel(req),
    id: { generationId: generationId(startedAt), accountId: caller.accountId, keyId: caller.keyId, streamed: stream },
    startedAt,
    t0: performance.now(),
    prompt: promptTokens(req.messages),
    maxTokens: requestedMaxTokens(req),
    explain: undefined,
    autoChoice: auto?.chosen.model,
    abort: new AbortController(),
    hold: undefined,
    attempts: 0,
    failures: [],
  };
  const { plans, queue } = planAll(ctx, routing);
  if (req.switchboard?.explain === true) {
    const transforms = applied ? [{ name: 'middle-out', removed_messages: applied.removedMessages, removed_tokens: applied.removedTokens }] : [];
    const policies = caller.policies.map((p) => p.name);
    ctx.explain = { generation_id: ctx.id.generationId, transforms, ...(policies.length > 0 ? { policies } : {}), ...(auto ? { auto } : {}), plans };
  }
  if (queue.length === 0) throw failWith(ctx, noRouteError(plans, deps.health, startedAt));
  reserveSpend(ctx, queue);

  // The client leaving, the deadline passing or the router stopping aborts whatever upstream call is running.
  const onClose = abortOnClose(ctx);
  reply.raw.on('close', onClose);
  const offStop = deps.stopping?.on(abortOnStop(ctx));
  const deadline = setTimeout(abortOnDeadline, deps.config.router.requestDeadlineMs, ctx);
  try {
    return await tryEndpoints(ctx, queue);
  } finally {
    clearTimeout(deadline);
    reply.raw.off('close', onClose);
    offStop?.();
    // Settled by a success; anything else (a failure, an unexpected throw) gives the reservation back.
    ctx.hold?.release();
  }
}

/** A policy's routing preference for a request that states none (provider.sort, or a :floor / :nitro model). */
function withPolicySort(routing: RequestRouting, policies: Caller['policies']): RequestRouting {
  const sort = routing.sort === undefined ? defaultSort(policies) : undefined;
  if (sort === undefined) return routing;
  return { ...routing, sort, models: routing.models.map((m) => ({ ...m, sort: m.sort ?? sort })) };
}

/** What routing any model needs to know of the request. */
interface RequestNeeds {
  req: ChatRequest;
  prefs: RequestRouting['prefs'];
  policies: Caller['policies'];
  prompt: number;
  maxTokens: number | undefined;
}

/** What routing to one model needs to know of the request. */
function routeNeeds({ req, prefs, policies, prompt, maxTokens }: RequestNeeds, choice: ModelChoice): RouteNeeds {
  return {
    model: choice.model,
    sort: choice.sort,
    free: choice.free,
    prefs,
    policies,
    promptTokens: prompt,
    maxTokens,
    needsTools: (req.tools?.length ?? 0) > 0,
    needsResponseFormat: req.response_format !== undefined && req.response_format.type !== 'text',
  };
}

/** The category the call's step (X-Switchboard-Step) maps to: by the request's `switchboard.steps`, else by its key's settings. */
function stepCategory(req: ChatRequest, caller: Caller): string | undefined {
  const step = caller.session?.step;
  const category = step === undefined ? undefined : (req.switchboard?.steps?.[step] ?? caller.autoSteps?.[step]);
  if (category !== undefined && !isCategory(category)) {
    throw badRequest(`switchboard.steps.${step}: the category must be one of ${CATEGORIES.join(', ')}`, 'invalid_category', `switchboard.steps.${step}`);
  }
  return category;
}

/** `switchboard/auto`: the models to try, each planned as this request would route to it. */
function chooseAutoFor(deps: ChatDeps, req: ChatRequest, routing: RequestRouting, caller: Caller, now: number) {
  const prompt = promptTokens(req.messages);
  const maxTokens = requestedMaxTokens(req);
  const { category } = caller;
  return chooseAuto({
    catalog: deps.catalog,
    category,
    table: deps.preference?.of(category),
    overall: deps.preference?.of(''),
    options: req.switchboard?.auto,
    plan: (model) =>
      planRoute(routeNeeds({ req, prefs: routing.prefs, policies: caller.policies, prompt, maxTokens }, { model, sort: routing.sort, free: false }), deps.health, {
        now,
        random: deps.random,
        weights: deps.weights(),
        signals: deps.signals,
      }),
    random: deps.random ?? Math.random,
    exploreShare: deps.config.router.autoExploreShare,
  });
}

/** Each requested model's plan, and the endpoints to try in order across them. */
function planAll(ctx: ChatContext, routing: RequestRouting): { plans: RoutePlan[]; queue: Endpoint[] } {
  const { deps, req } = ctx;
  const plans = routing.models.map((choice) =>
    planRoute(routeNeeds({ req, prefs: routing.prefs, policies: ctx.caller.policies, prompt: ctx.prompt, maxTokens: ctx.maxTokens }, choice), deps.health, {
      now: ctx.startedAt,
      random: deps.random,
      weights: deps.weights(),
      signals: deps.signals,
    }),
  );
  const by = routing.models[0].sort;
  return { plans, queue: routing.acrossModels && by !== undefined ? acrossModels(plans, by) : plans.flatMap((p) => p.order) };
}

async function tryEndpoints(ctx: ChatContext, queue: Endpoint[]): Promise<unknown> {
  const { deps, abort } = ctx;
  const stream = ctx.id.streamed;
  while (ctx.attempts < deps.config.router.maxAttempts && !abort.signal.aborted) {
    const e = queue.shift();
    if (!e) {
      // Out of candidates: if they were only rate limiting briefly, wait as they asked, then try again.
      const limited = ctx.failures.filter(({ f }) => f.errorClass === 'rate_limited');
      const wait = Math.min(...limited.map(({ f }) => f.retryAfterMs ?? Infinity));
      if (limited.length === 0 || limited.length !== ctx.failures.length || wait > deps.config.router.maxRetryAfterWaitMs) break;
      await sleep(wait);
      const last = limited[limited.length - 1].e;
      deps.health.get(last).stats.coolUntil = 0;
      queue.push(last);
      continue;
    }
    const h = deps.health.get(e);
    if (!h.breaker.tryAcquire()) continue;
    const index = ctx.attempts++;
    const attemptStart = Date.now();
    h.rate.note(attemptStart);
    const ta = performance.now();
    const whole = stream && isSuspect(ctx, e, attemptStart);
    const heard = h.pending.begin(attemptStart, usualWaitMs(h, e, attemptStart, stream && !whole, ctx.maxTokens));
    let result: Awaited<ReturnType<typeof attempt>>;
    try {
      // Asked again at the first token: a cut seen here meanwhile (the other streams this endpoint is
      // answering now are cut too) still leaves this one failover-able.
      result = await attempt({
        upstream: deps.upstream,
        target: deps.target(e),
        endpoint: e,
        req: ctx.req,
        stream,
        signal: abort.signal,
        startedAt: ta,
        readWhole: () => whole || isSuspect(ctx, e, Date.now()),
      });
    } finally {
      heard();
    }
    if (!result.ok) {
      const latency = performance.now() - ta;
      recordFailure(ctx, e, result, attemptStart + latency);
      // A body the router could not even prepare reached no provider: there was no attempt to record.
      if (result.errorClass !== 'router_error') {
        deps.sink.emit(
          attemptEvent(ctx.id, index, attemptStart, e, {
            status: result.status,
            errorClass: result.errorClass,
            latencyMs: latency,
            ttftMs: 0,
            tokensPrompt: 0,
            tokensCompletion: 0,
            costUsd: 0,
          }),
        );
      }
      ctx.failures.push({ f: result, e });
      if (result.errorClass === 'router_error') {
        throw failWith(ctx, new ApiError(500, 'server_error', 'router_error', `the router could not prepare this request: ${result.message}`), undefined, 'router_error');
      }
      if (result.errorClass === 'upstream_4xx') {
        // The provider judged the request itself bad: another provider would too. Pass it back, attributed.
        throw failWith(
          ctx,
          new ApiError(result.status === 413 ? 413 : 400, 'invalid_request_error', 'upstream_rejected', `${e.provider} rejected the request: ${result.message}`, {
            provider: e.provider,
            raw: result.message,
          }),
          e,
        );
      }
      continue;
    }
    const depth = ctx.failures.length;
    if (result.kind === 'stream') return streamOut(ctx, e, result, { index, attemptStart, ta, depth });
    const c = result.completion;
    const tokensPrompt = c.usage?.prompt ?? ctx.prompt;
    const tokensCompletion = c.usage?.completion ?? estimateTokens(c.message.content ?? '');
    const o = success(ctx, e, result.ttftMs, performance.now() - ta, tokensPrompt, tokensCompletion);
    deps.sink.emit(attemptEvent(ctx.id, index, attemptStart, e, o));
    const fee = finish(
      ctx,
      e,
      depth,
      { ...o, latencyMs: performance.now() - ctx.t0, ttftMs: performance.now() - ctx.t0 },
      { finishReason: c.finishReason, nativeFinishReason: c.nativeFinishReason, upstreamId: c.upstreamId, usage: c.usage },
    );
    setRouteHeaders(ctx, e);
    return completionBody(ctx, e, c.message, c.finishReason, o, fee, c.usage);
  }
  const last = ctx.failures[ctx.failures.length - 1];
  const why = abort.signal.aborted ? (abort.signal.reason as RouterAbort).errorClass : undefined;
  if (why === 'client_abort') throw failWith(ctx, new ApiError(499, 'invalid_request_error', 'client_closed', 'client closed the connection'), last?.e, 'client_abort');
  throw failWith(ctx, finalError(ctx.failures, why), why === undefined ? last?.e : undefined, why ?? last?.f.errorClass);
}

function abortOnClose(ctx: ChatContext): () => void {
  return () => {
    if (!ctx.reply.raw.writableFinished) ctx.abort.abort(new RouterAbort('client_abort', 'client closed the connection'));
  };
}

function abortOnStop(ctx: ChatContext): () => void {
  return () => ctx.abort.abort(new RouterAbort('shutdown', 'the router is shutting down'));
}

function abortOnDeadline(ctx: ChatContext): void {
  ctx.abort.abort(new RouterAbort('deadline', `the request deadline of ${ctx.deps.config.router.requestDeadlineMs} ms passed`));
}

/**
 * A stream can fail over only until its first byte reaches the client. To an endpoint that is suspect (the
 * fleet holds it down or degraded, this router's breaker is probing it, or it cut a stream here lately) the
 * stream is read whole before anything is sent, so a cut there fails over unseen; the cost is a later first
 * token on those few requests.
 */
function isSuspect(ctx: ChatContext, e: Endpoint, now: number): boolean {
  const h = ctx.deps.health.get(e);
  const sig = ctx.deps.signals?.fresh(e.id, now);
  return (sig !== undefined && sig.status !== 'healthy') || h.breaker.state(now) !== 'closed' || now - h.stats.lastCutAt < RECENT_FAILURE_MS;
}

/**
 * How long an attempt to this endpoint usually waits, by this router's own figures: for a stream, its first
 * token; for a whole answer, an answer of at most the requested length (the median scaled by max_tokens over
 * the usual completion, or the tail when max_tokens is not set: long answers are normal traffic, and only
 * waits well beyond what such an answer takes say the endpoint has slowed). The catalog's figures until
 * there are samples.
 */
function usualWaitMs(h: EndpointHealth, e: Endpoint, now: number, firstToken: boolean, maxTokens: number | undefined): number {
  const s = h.stats.snapshot(now);
  if (firstToken) return s.ttft_p50_ms ?? e.ttftMs;
  const fromCatalog = e.ttftMs + ((maxTokens ?? ASSUMED_COMPLETION_TOKENS) * 1000) / e.tokensPerSecond;
  if (maxTokens === undefined) return s.latency_p99_ms ?? fromCatalog;
  if (s.latency_p50_ms === null || s.completion_tokens_p50 === null) return fromCatalog;
  return s.latency_p50_ms * Math.max(1, maxTokens / Math.max(s.completion_tokens_p50, 1));
}
