// A streamed answer once its first token is in hand: relay the provider's pieces as OpenAI chunks, and end
// with a usage chunk and `[DONE]` whatever happens. Once a stream has begun there is no failover: a
// failure ends it with a chunk whose finish_reason is "error", and is recorded (against the provider only
// when the provider caused it).
import type { Endpoint } from '../catalog/catalog.ts';
import type { ErrorClass } from '../telemetry/event.ts';
import { classifyStreamError, RouterAbort, type StreamStart } from './attempt.ts';
import { finish, providerName, recordFailure, showsReasoning, success, usageBody, type ChatContext } from './chat-context.ts';
import { attemptEvent, costOf, type AnswerFacts, type Outcome } from './events.ts';
import { SseOut } from './stream-out.ts';
import type { StreamPiece, ToolCall, Usage } from './upstream/types.ts';

export interface AttemptInfo {
  index: number;
  attemptStart: number;
  /** Monotonic start of the attempt. */
  ta: number;
  /** Failed attempts before this one. */
  depth: number;
}

class UpstreamStreamError extends Error {}

const FAILURE_TEXT: Partial<Record<ErrorClass, string>> = {
  shutdown: 'the router is shutting down; the answer was cut here',
  deadline: 'the request deadline passed; the answer was cut here',
};

export async function streamOut(ctx: ChatContext, e: Endpoint, start: StreamStart, at: AttemptInfo): Promise<void> {
  const { deps, reply } = ctx;
  reply.hijack();
  const ttftClient = performance.now() - ctx.t0;
  const out = new SseOut(reply.raw, { id: ctx.id.generationId, created: Math.floor(ctx.startedAt / 1000), model: e.model, provider: providerName(ctx, e) }, ctx.shape === 'text');
  out.open({
    ...(reply.getHeaders() as Record<string, string>),
    'x-switchboard-generation-id': ctx.id.generationId,
    'x-switchboard-provider': e.provider,
    'x-switchboard-endpoint': e.id,
  });

  let text = 0;
  let usagePrompt: number | undefined;
  let usageCompletion: number | undefined;
  const reported: Partial<Usage> = {};
  const facts: AnswerFacts = { usage: reported };
  let finishReason: string | null = null;
  let failure: { cls: ErrorClass; message: string } | undefined;
  let firstChunk = true;
  const showReasoning = showsReasoning(ctx.req);
  const emit = async (piece: StreamPiece) => {
    if (piece.usage?.prompt !== undefined) usagePrompt = piece.usage.prompt;
    if (piece.usage?.completion !== undefined) usageCompletion = piece.usage.completion;
    if (piece.usage?.cached !== undefined) reported.cached = piece.usage.cached;
    if (piece.usage?.reasoning !== undefined) reported.reasoning = piece.usage.reasoning;
    if (piece.error !== undefined) throw new UpstreamStreamError(piece.error);
    if (piece.finishReason) finishReason = piece.finishReason;
    if (piece.nativeFinishReason) facts.nativeFinishReason = piece.nativeFinishReason;
    if (piece.upstreamId && facts.upstreamId === undefined) facts.upstreamId = piece.upstreamId;
    const reasoning = showReasoning ? piece.reasoning : undefined;
    if (piece.content === undefined && piece.toolCalls === undefined && reasoning === undefined && !firstChunk) return;
    const delta: { role?: 'assistant'; content?: string; reasoning?: string; tool_calls?: ToolCall[] } = firstChunk ? { role: 'assistant', content: piece.content ?? '' } : {};
    if (!firstChunk && piece.content !== undefined) delta.content = piece.content;
    if (reasoning !== undefined) delta.reasoning = reasoning;
    if (piece.toolCalls) delta.tool_calls = piece.toolCalls;
    text += piece.content?.length ?? 0;
    await out.chunk(delta, null, firstChunk && ctx.explain ? { routing: ctx.explain } : {});
    firstChunk = false;
  };
  try {
    for (const p of start.first) await emit(p);
    for await (const p of start.rest) {
      if (out.gone) {
        ctx.abort.abort(new RouterAbort('client_abort', 'client closed the connection'));
        break;
      }
      await emit(p);
    }
  } catch (err) {
    const cls = out.gone ? 'client_abort' : err instanceof UpstreamStreamError ? 'upstream_5xx' : classifyStreamError(err, ctx.abort.signal);
    failure = { cls, message: FAILURE_TEXT[cls] ?? (err as Error).message };
  }
  if (out.gone && !failure) failure = { cls: 'client_abort', message: 'client closed the connection' };

  const latency = performance.now() - at.ta;
  const tokensPrompt = usagePrompt ?? ctx.prompt;
  const tokensCompletion = usageCompletion ?? Math.ceil(text / 4);
  let o: Outcome;
  if (failure) {
    recordFailure(ctx, e, { errorClass: failure.cls, retryAfterMs: undefined }, Date.now());
    // What was delivered is billed; the status says who ended it.
    const status = failure.cls === 'client_abort' ? 499 : failure.cls === 'shutdown' ? 503 : failure.cls === 'deadline' ? 408 : 502;
    o = { status, errorClass: failure.cls, latencyMs: latency, ttftMs: start.ttftMs, tokensPrompt, tokensCompletion, costUsd: costOf(e, tokensPrompt, tokensCompletion) };
    const byProvider = status === 502;
    await out.chunk({}, 'error', {
      error: {
        message: byProvider ? `${e.provider} stream failed: ${failure.message}` : failure.message,
        type: byProvider ? 'upstream_error' : 'service_unavailable',
        code: failure.cls,
        ...(byProvider ? { provider: e.provider } : {}),
      },
    });
  } else {
    o = success(ctx, e, start.ttftMs, latency, tokensPrompt, tokensCompletion);
    await out.chunk({}, finishReason ?? 'stop');
  }
  deps.sink.emit(attemptEvent(ctx.id, at.index, at.attemptStart, e, o));
  facts.finishReason = failure ? 'error' : (finishReason ?? 'stop');
  const fee = finish(ctx, e, at.depth, { ...o, latencyMs: performance.now() - ctx.t0, ttftMs: ttftClient }, facts);
  await out.usage(usageBody(o, fee, reported));
  out.end();
}
