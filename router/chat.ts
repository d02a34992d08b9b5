// POST /v1/chat/completions, after validation and authentication: plan the route, try endpoints in order
// within the retry budget, answer whole or streamed, and emit one telemetry event per attempt and one for
// the request. Telemetry is a hand-off: nothing here waits for it.
import type { FastifyReply } from 'fastify';
import type { Catalog, Endpoint, Model } from '../catalog/catalog.ts';
import type { Config } from '../core/config.ts';
import { ApiError, notFound } from '../core/errors.ts';
import { generationId } from '../core/ids.ts';
import type { Metrics } from '../core/metrics.ts';
import type { ErrorClass } from '../telemetry/event.ts';
import type { TelemetrySink } from '../telemetry/bus.ts';
import { promptTokens, estimateTokens } from '../simulator/completion.ts';
import type { ChatRequest } from './chat-schema.ts';
import { attempt, classifyStreamError, type AttemptFailure, type StreamStart } from './attempt.ts';
import { attemptEvent, costOf, requestEvent, type Outcome, type RequestIdentity } from './events.ts';
import type { EndpointHealth, HealthRegistry } from './health/registry.ts';
import type { SignalTable } from './health/signals.ts';
import type { SpendLedger } from './auth/spend.ts';
import { parseModelRef } from './routing/model-ref.ts';
import { ASSUMED_COMPLETION_TOKENS, planRoute, RECENT_FAILURE_MS, type RoutePlan, type RoutingWeights } from './routing/plan.ts';
import { SseOut } from './stream-out.ts';
import type { UpstreamClient, UpstreamTarget } from './upstream/client.ts';
import type { AssistantMessage, ToolCall } from './upstream/types.ts';

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
  random?: () => number;
}

export interface Caller {
  accountId: string;
  keyId: string;
  app: string;
  category: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function resolveModels(catalog: Catalog, req: ChatRequest): { model: Model; sort: ReturnType<typeof parseModelRef>['sort'] }[] {
  const refs = [...new Set([req.model, ...(req.models ?? [])])];
  return refs.map((ref) => {
    const { id, sort } = parseModelRef(ref);
    const model = catalog.model(id);
    if (!model) throw notFound(`model ${JSON.stringify(ref)} is not in the catalog (GET /v1/models lists them)`, 'model_not_found');
    return { model, sort: sort ?? req.provider?.sort };
  });
}

/** Why nothing could be tried: the request's own needs (4xx), rate limits (429) or broken endpoints (503). */
function noRouteError(plans: RoutePlan[], health: HealthRegistry, now: number): ApiError {
  const all = plans.flatMap((p) => p.excluded);
  const limited = all.filter((x) => x.reason.startsWith('rate limited'));
  const open = all.filter((x) => x.reason === 'circuit open');
  if (limited.length > 0 && open.length === 0) {
    const wait = Math.min(...limited.map((x) => health.get(x.endpoint).stats.coolUntil - now));
    return new ApiError(429, 'rate_limit_error', 'upstream_rate_limited', `every endpoint that could serve this request asked to retry later (${limited.map((x) => x.endpoint).join(', ')})`, { provider: limited[0].provider, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)), metadata: { excluded: all } });
  }
  if (open.length + limited.length > 0) {
    return new ApiError(503, 'service_unavailable', 'no_available_endpoints', `every endpoint that could serve this request is cooling down after failures (${[...open, ...limited].map((x) => x.endpoint).join(', ')})`, { retryAfterSeconds: 1, metadata: { excluded: all } });
  }
  if (all.length > 0 && all.every((x) => x.reason.startsWith('context_length'))) {
    return new ApiError(400, 'invalid_request_error', 'context_length_exceeded', 'the prompt plus max_tokens exceeds the context length of every endpoint of the requested models', { metadata: { excluded: all } });
  }
  const reasons = [...new Set(all.map((x) => x.reason))].join('; ');
  return new ApiError(404, 'not_found_error', 'no_endpoints', `no endpoint satisfies this request's requirements (${reasons})`, { metadata: { excluded: all } });
}

function finalError(failures: { f: AttemptFailure; e: Endpoint }[], deadlineHit: boolean): ApiError {
  const last = failures[failures.length - 1];
  const attempts = failures.map(({ f, e }) => ({ provider: e.provider, endpoint: e.id, status: f.status, error_class: f.errorClass, message: f.message }));
  if (deadlineHit && !last) return new ApiError(502, 'upstream_error', 'upstream_timeout', 'the request deadline passed before any provider answered', { metadata: { attempts } });
  if (failures.every(({ f }) => f.errorClass === 'rate_limited')) {
    const wait = Math.min(...failures.map(({ f }) => f.retryAfterMs ?? 1000));
    return new ApiError(429, 'rate_limit_error', 'upstream_rate_limited', `every provider tried is rate limiting (last: ${last.e.provider})`, { provider: last.e.provider, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)), metadata: { attempts } });
  }
  return new ApiError(502, 'upstream_error', deadlineHit ? 'upstream_timeout' : 'upstream_failed', `${failures.length} attempt(s) failed; last: ${last.e.provider} (${last.f.errorClass}${last.f.status ? ` ${last.f.status}` : ''}): ${last.f.message}`, { provider: last.e.provider, metadata: { attempts } });
}

export async function handleChat(deps: ChatDeps, req: ChatRequest, caller: Caller, reply: FastifyReply): Promise<unknown> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const stream = req.stream === true;
  const id: RequestIdentity = { generationId: generationId(startedAt), accountId: caller.accountId, keyId: caller.keyId, streamed: stream };
  const models = resolveModels(deps.catalog, req);
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  const prompt = promptTokens(req.messages);
  const plans = models.map(({ model, sort }) =>
    planRoute(
      { model, sort, prefs: req.provider, promptTokens: prompt, maxTokens, needsTools: (req.tools?.length ?? 0) > 0, needsResponseFormat: req.response_format !== undefined && req.response_format.type !== 'text' },
      deps.health,
      { now: startedAt, random: deps.random, weights: deps.weights(), signals: deps.signals },
    ),
  );
  const explain = req.switchboard?.explain === true ? { generation_id: id.generationId, plans } : undefined;
  const queue: Endpoint[] = plans.flatMap((p) => p.order);
  if (queue.length === 0) throw withTelemetry(deps, id, startedAt, t0, caller, req, noRouteError(plans, deps.health, startedAt));

  // The client leaving or the deadline passing aborts whatever upstream call is running.
  const abort = new AbortController();
  const onClose = abortOnClose(reply, abort);
  reply.raw.on('close', onClose);
  const deadline = setTimeout(() => abort.abort(new Error('request deadline passed')), deps.config.router.requestDeadlineMs);
  const failures: { f: AttemptFailure; e: Endpoint }[] = [];
  let attempts = 0;
  try {
    while (attempts < deps.config.router.maxAttempts && !abort.signal.aborted) {
      const next = queue.shift();
      if (!next) {
        // Out of candidates: if they were only rate limiting briefly, wait as they asked, then try again.
        const limited = failures.filter(({ f }) => f.errorClass === 'rate_limited');
        const wait = Math.min(...limited.map(({ f }) => f.retryAfterMs ?? Infinity));
        if (limited.length === 0 || limited.length !== failures.length || wait > deps.config.router.maxRetryAfterWaitMs) break;
        await sleep(wait);
        const last = limited[limited.length - 1].e;
        deps.health.get(last).stats.coolUntil = 0;
        queue.push(last);
        continue;
      }
      const e = next;
      const h = deps.health.get(e);
      if (!h.breaker.tryAcquire()) continue;
      const index = attempts++;
      const attemptStart = Date.now();
      h.rate.note(attemptStart);
      const ta = performance.now();
      const whole = stream && isSuspect(deps, e, attemptStart);
      const heard = h.pending.begin(attemptStart, usualWaitMs(h, e, attemptStart, stream && !whole, req.max_tokens ?? req.max_completion_tokens));
      let result: Awaited<ReturnType<typeof attempt>>;
      try {
        // Asked again at the first token: a cut seen here meanwhile (the other streams this endpoint is
        // answering now are cut too) still leaves this one failover-able.
        result = await attempt(deps.upstream, deps.target(e), e, req, stream, abort.signal, ta, () => whole || isSuspect(deps, e, Date.now()));
      } finally {
        heard();
      }
      if (!result.ok) {
        const latency = performance.now() - ta;
        recordFailure(deps, e, result, attemptStart + latency);
        deps.sink.emit(attemptEvent(id, index, attemptStart, e, { status: result.status, errorClass: result.errorClass, latencyMs: latency, ttftMs: 0, tokensPrompt: 0, tokensCompletion: 0, costUsd: 0 }));
        if (result.errorClass === 'client_abort') break;
        failures.push({ f: result, e });
        if (result.errorClass === 'upstream_4xx') {
          // The provider judged the request itself bad: another provider would too. Pass it back, attributed.
          throw withTelemetry(deps, id, startedAt, t0, caller, req, new ApiError(result.status === 413 ? 413 : 400, 'invalid_request_error', 'upstream_rejected', `${e.provider} rejected the request: ${result.message}`, { provider: e.provider }), e, attempts);
        }
        continue;
      }
      const depth = failures.length;
      if (result.kind === 'whole') {
        const c = result.completion;
        const tokensPrompt = c.usage?.prompt ?? prompt;
        const tokensCompletion = c.usage?.completion ?? estimateTokens(c.message.content ?? '');
        const o = success(deps, e, result.ttftMs, performance.now() - ta, tokensPrompt, tokensCompletion);
        deps.sink.emit(attemptEvent(id, index, attemptStart, e, o));
        const fee = finish(deps, id, startedAt, t0, caller, req, e, attempts, depth, { ...o, latencyMs: performance.now() - t0, ttftMs: performance.now() - t0 });
        setRouteHeaders(reply, id, e);
        return completionBody(id, startedAt, e, deps, c.message, c.finishReason, o, fee, explain);
      }
      return await streamOut(deps, req, reply, id, startedAt, t0, caller, e, result, { index, attemptStart, ta, prompt, attempts, depth, explain, abort });
    }
  } finally {
    clearTimeout(deadline);
    reply.raw.off('close', onClose);
  }
  const clientGone = abort.signal.aborted && !reply.raw.writableFinished && reply.raw.destroyed;
  const err = clientGone
    ? new ApiError(499 as number, 'invalid_request_error', 'client_closed', 'client closed the connection')
    : finalError(failures, abort.signal.aborted);
  throw withTelemetry(deps, id, startedAt, t0, caller, req, err, failures[failures.length - 1]?.e, attempts, clientGone ? 'client_abort' : failures[failures.length - 1]?.f.errorClass);
}

/** The listener that aborts the request's upstream call when its client leaves before the answer is done.
 * (Made here rather than as a named closure in handleChat: the loader names each named closure it makes,
 * which showed in every request's cost.) */
function abortOnClose(reply: FastifyReply, abort: AbortController): () => void {
  return () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('client closed the connection'));
  };
}

/**
 * A stream can fail over only until its first byte reaches the client. To an endpoint that is suspect (the
 * fleet holds it down or degraded, this router's breaker is probing it, or it cut a stream here lately) the
 * stream is read whole before anything is sent, so a cut there fails over unseen; the cost is a later first
 * token on those few requests.
 */
function isSuspect(deps: ChatDeps, e: Endpoint, now: number): boolean {
  const h = deps.health.get(e);
  const sig = deps.signals?.fresh(e.id, now);
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

/** What a failed attempt tells this router about the endpoint (before the first token or mid-stream). */
function recordFailure(deps: ChatDeps, e: Endpoint, f: Pick<AttemptFailure, 'errorClass' | 'retryAfterMs'>, now: number): void {
  const h = deps.health.get(e);
  deps.metrics.upstreamAttempts.inc({ provider: e.provider, error_class: f.errorClass });
  switch (f.errorClass) {
    case 'rate_limited':
      h.stats.coolUntil = now + (f.retryAfterMs ?? 1000);
      h.stats.record('rate_limited', now);
      h.breaker.release();
      break;
    case 'upstream_4xx':
      h.stats.record('client_error', now);
      h.breaker.release();
      break;
    case 'client_abort':
      h.breaker.release();
      break;
    default:
      if (f.errorClass === 'stream_cut') h.stats.lastCutAt = now;
      h.stats.record('failure', now);
      h.breaker.onFailure(now, deps.signals?.fresh(e.id, now) === undefined);
  }
}

function success(deps: ChatDeps, e: Endpoint, ttftMs: number, latencyMs: number, tokensPrompt: number, tokensCompletion: number): Outcome {
  const h = deps.health.get(e);
  const now = Date.now();
  h.breaker.onSuccess(now);
  h.stats.record('success', now, latencyMs, ttftMs, tokensCompletion);
  deps.metrics.upstreamAttempts.inc({ provider: e.provider, error_class: 'none' });
  deps.metrics.upstreamTtft.observe({ provider: e.provider }, ttftMs / 1000);
  return { status: 200, errorClass: 'none', latencyMs, ttftMs, tokensPrompt, tokensCompletion, costUsd: costOf(e, tokensPrompt, tokensCompletion) };
}

/** Emit the request event of a successful (or cut) request and charge it; returns the platform fee. */
function finish(deps: ChatDeps, id: RequestIdentity, startedAt: number, t0: number, caller: Caller, req: ChatRequest, e: Endpoint, attempts: number, depth: number, o: Outcome): number {
  const fee = Math.round(o.costUsd * deps.config.platformFeeRate * 1e9) / 1e9;
  deps.sink.emit(requestEvent(id, startedAt, { app: caller.app, category: caller.category, requestedModel: req.model, endpoint: e, attempts, fallbackDepth: depth, feeUsd: fee }, o));
  deps.spend.add(caller.keyId, o.costUsd + fee);
  deps.metrics.requestDuration.observe({ streamed: String(id.streamed), outcome: o.status === 200 ? 'success' : 'error' }, (performance.now() - t0) / 1000);
  return fee;
}

function withTelemetry(deps: ChatDeps, id: RequestIdentity, startedAt: number, t0: number, caller: Caller, req: ChatRequest, err: ApiError, e?: Endpoint, attempts = 0, errorClass?: ErrorClass): ApiError {
  const cls: ErrorClass = errorClass ?? (err.code === 'no_available_endpoints' ? 'circuit_open' : err.code === 'upstream_rate_limited' ? 'rate_limited' : err.status === 502 ? 'upstream_5xx' : 'no_candidates');
  const latency = performance.now() - t0;
  deps.sink.emit(requestEvent(id, startedAt, { app: caller.app, category: caller.category, requestedModel: req.model, endpoint: e, attempts, fallbackDepth: Math.max(0, attempts - 1), feeUsd: 0 }, { status: err.status, errorClass: cls, latencyMs: latency, ttftMs: 0, tokensPrompt: 0, tokensCompletion: 0, costUsd: 0 }));
  deps.metrics.requestDuration.observe({ streamed: String(id.streamed), outcome: 'error' }, latency / 1000);
  err.extra.headers = { ...err.extra.headers, 'x-switchboard-generation-id': id.generationId };
  return err;
}

function setRouteHeaders(reply: FastifyReply, id: RequestIdentity, e: Endpoint): void {
  reply.header('x-switchboard-generation-id', id.generationId);
  reply.header('x-switchboard-provider', e.provider);
  reply.header('x-switchboard-endpoint', e.id);
}

function completionBody(id: RequestIdentity, startedAt: number, e: Endpoint, deps: ChatDeps, message: AssistantMessage, finishReason: string, o: Outcome, fee: number, explain: unknown) {
  const body: Record<string, unknown> = {
    id: id.generationId,
    object: 'chat.completion',
    created: Math.floor(startedAt / 1000),
    model: e.model,
    provider: deps.catalog.providers.get(e.provider)?.name ?? e.provider,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: { prompt_tokens: o.tokensPrompt, completion_tokens: o.tokensCompletion, total_tokens: o.tokensPrompt + o.tokensCompletion, cost: o.costUsd, platform_fee: fee },
  };
  if (explain) body.routing = explain;
  return body;
}

interface StreamCtx {
  index: number;
  attemptStart: number;
  ta: number;
  prompt: number;
  attempts: number;
  depth: number;
  explain: unknown;
  abort: AbortController;
}

async function streamOut(deps: ChatDeps, req: ChatRequest, reply: FastifyReply, id: RequestIdentity, startedAt: number, t0: number, caller: Caller, e: Endpoint, start: StreamStart, ctx: StreamCtx): Promise<void> {
  reply.hijack();
  const ttftClient = performance.now() - t0;
  const out = new SseOut(reply.raw, { id: id.generationId, created: Math.floor(startedAt / 1000), model: e.model, provider: deps.catalog.providers.get(e.provider)?.name ?? e.provider });
  out.open({ ...(reply.getHeaders() as Record<string, string>), 'x-switchboard-generation-id': id.generationId, 'x-switchboard-provider': e.provider, 'x-switchboard-endpoint': e.id });

  let text = 0;
  let usagePrompt: number | undefined;
  let usageCompletion: number | undefined;
  let finishReason: string | null = null;
  let failure: { cls: ErrorClass; message: string } | undefined;
  let firstChunk = true;
  const emit = async (piece: { content?: string; toolCalls?: ToolCall[]; finishReason?: string; usage?: { prompt?: number; completion?: number }; error?: string }) => {
    if (piece.usage?.prompt !== undefined) usagePrompt = piece.usage.prompt;
    if (piece.usage?.completion !== undefined) usageCompletion = piece.usage.completion;
    if (piece.error !== undefined) throw Object.assign(new Error(piece.error), { upstreamError: true });
    if (piece.finishReason) finishReason = piece.finishReason;
    if (piece.content === undefined && piece.toolCalls === undefined && !firstChunk) return;
    const delta: { role?: 'assistant'; content?: string; tool_calls?: ToolCall[] } = firstChunk ? { role: 'assistant', content: piece.content ?? '' } : {};
    if (!firstChunk && piece.content !== undefined) delta.content = piece.content;
    if (piece.toolCalls) delta.tool_calls = piece.toolCalls;
    text += piece.content?.length ?? 0;
    await out.chunk(delta, null, firstChunk && ctx.explain ? { routing: ctx.explain } : {});
    firstChunk = false;
  };
  try {
    for (const p of start.first) await emit(p);
    for await (const p of start.rest) {
      if (out.gone) {
        ctx.abort.abort(new Error('client closed the connection'));
        break;
      }
      await emit(p);
    }
  } catch (err) {
    const upstreamSaid = (err as { upstreamError?: boolean }).upstreamError === true;
    failure = { cls: out.gone ? 'client_abort' : upstreamSaid ? 'upstream_5xx' : classifyStreamError(err), message: (err as Error).message };
  }
  if (out.gone && !failure) failure = { cls: 'client_abort', message: 'client closed the connection' };

  const latency = performance.now() - ctx.ta;
  const tokensPrompt = usagePrompt ?? ctx.prompt;
  const tokensCompletion = usageCompletion ?? Math.ceil(text / 4);
  let o: Outcome;
  if (failure) {
    // Once a stream has begun there is no failover: end it with an error chunk, and record a failure.
    recordFailure(deps, e, { errorClass: failure.cls, retryAfterMs: undefined }, Date.now());
    o = { status: failure.cls === 'client_abort' ? 499 : 502, errorClass: failure.cls, latencyMs: latency, ttftMs: start.ttftMs, tokensPrompt, tokensCompletion, costUsd: costOf(e, tokensPrompt, tokensCompletion) };
    await out.chunk({}, 'error', { error: { message: `${e.provider} stream failed: ${failure.message}`, type: 'upstream_error', code: failure.cls, provider: e.provider } });
  } else {
    o = success(deps, e, start.ttftMs, latency, tokensPrompt, tokensCompletion);
    await out.chunk({}, finishReason ?? 'stop');
  }
  deps.sink.emit(attemptEvent(id, ctx.index, ctx.attemptStart, e, o));
  const fee = finish(deps, id, startedAt, t0, caller, req, e, ctx.attempts, ctx.depth, { ...o, latencyMs: performance.now() - t0, ttftMs: ttftClient });
  await out.usage({ prompt_tokens: tokensPrompt, completion_tokens: tokensCompletion, total_tokens: tokensPrompt + tokensCompletion, cost: o.costUsd, platform_fee: fee });
  out.end();
}
