// One upstream attempt, up to the point where failover is no longer possible: for a whole answer, until it
// is parsed; for a stream, until the first token has arrived. Everything before that can fail over.
import type { Endpoint } from '../catalog/catalog.ts';
import type { ErrorClass } from '../telemetry/event.ts';
import type { ChatRequest } from './chat-schema.ts';
import { anthropicAdapter } from './upstream/anthropic.ts';
import { classifyNetworkError, retryAfterMs, type UpstreamClient, type UpstreamTarget } from './upstream/client.ts';
import { openAiAdapter } from './upstream/openai.ts';
import { SseParser } from './upstream/sse.ts';
import { MalformedUpstreamError, type Adapter, type ParsedCompletion, type StreamPiece } from './upstream/types.ts';

export const adapterFor = (e: Endpoint): Adapter => (e.api === 'anthropic' ? anthropicAdapter : openAiAdapter);

export interface AttemptFailure {
  ok: false;
  errorClass: ErrorClass;
  status: number;
  message: string;
  retryAfterMs: number | undefined;
  ttftMs: number;
}

export interface WholeSuccess {
  ok: true;
  kind: 'whole';
  completion: ParsedCompletion;
  ttftMs: number;
}

export interface StreamStart {
  ok: true;
  kind: 'stream';
  /** Pieces read so far (at least the first token or the end). */
  first: StreamPiece[];
  /** The rest of the stream; throws on failure mid-way. */
  rest: AsyncGenerator<StreamPiece>;
  ttftMs: number;
}

export type AttemptResult = AttemptFailure | WholeSuccess | StreamStart;

const MAX_ERROR_BODY = 4096;

/** Classify a non-200 upstream answer. 400/413/422 are the client's problem and are passed back. */
export function classifyStatus(status: number): ErrorClass {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'upstream_5xx';
  if (status === 400 || status === 413 || status === 422) return 'upstream_4xx';
  return 'upstream_auth';
}

async function errorMessage(body: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    if (text.length < MAX_ERROR_BODY) text += chunk.toString('utf8');
  }
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof m === 'string') return m.slice(0, 500);
  } catch {
    /* not JSON: use the text */
  }
  return text.slice(0, 500) || 'no error body';
}

const meaningful = (p: StreamPiece) =>
  p.content !== undefined || p.reasoning !== undefined || p.toolCalls !== undefined || p.finishReason !== undefined || p.done === true || p.error !== undefined;

async function* decodeStream(body: AsyncIterable<Buffer>, adapter: Adapter): AsyncGenerator<StreamPiece> {
  const parser = new SseParser();
  const decoder = adapter.streamDecoder();
  let finished = false;
  for await (const chunk of body) {
    for (const ev of parser.push(chunk)) {
      for (const piece of decoder.decode(ev)) {
        if (piece.done) finished = true;
        yield piece;
      }
    }
    if (finished) return;
  }
  if (!finished) throw new StreamCutError('upstream closed the stream before it ended');
}

export class StreamCutError extends Error {
  override name = 'StreamCutError';
}

/** Why the router itself stopped a request's upstream call: the reason its abort signal carries. */
export class RouterAbort extends Error {
  override name = 'RouterAbort';
  constructor(
    readonly errorClass: Extract<ErrorClass, 'client_abort' | 'deadline' | 'shutdown'>,
    message: string,
  ) {
    super(message);
  }
}

/** The class of an upstream call the router aborted, from the signal's reason (undefined: not aborted by us). */
export function abortClass(signal: AbortSignal): ErrorClass | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason instanceof RouterAbort ? signal.reason.errorClass : 'client_abort';
}

export function classifyStreamError(err: unknown, signal?: AbortSignal): ErrorClass {
  const aborted = signal && abortClass(signal);
  if (aborted) return aborted;
  if (err instanceof StreamCutError) return 'stream_cut';
  const c = classifyNetworkError(err);
  // A socket that dies mid-body is a cut stream, whatever undici calls it.
  return c === 'connection_error' ? 'stream_cut' : c;
}

function fail(errorClass: ErrorClass, status: number, message: string, retry?: number): AttemptFailure {
  return { ok: false, errorClass, status, message, retryAfterMs: retry, ttftMs: 0 };
}

/** One attempt's inputs. */
export interface AttemptCall {
  upstream: UpstreamClient;
  target: UpstreamTarget;
  endpoint: Endpoint;
  req: ChatRequest;
  stream: boolean;
  signal: AbortSignal;
  /** Monotonic time (performance.now()) the attempt started. */
  startedAt: number;
  /** Whether to read a stream to its end before returning (so that a cut can still fail over); asked when
   * the first token arrives, so an endpoint that turned suspect while this attempt waited for it is read whole too. */
  readWhole?: () => boolean;
}

export async function attempt(call: AttemptCall): Promise<AttemptResult> {
  const { upstream, target, endpoint, req, stream, signal, startedAt, readWhole = () => false } = call;
  const adapter = adapterFor(endpoint);
  let body: string;
  try {
    body = JSON.stringify(adapter.buildBody(req, endpoint, stream));
  } catch (err) {
    // Nothing was sent: this is the router's own failure, whichever provider it was meant for.
    return fail('router_error', 0, `could not prepare the request for ${endpoint.provider}: ${(err as Error).message}`);
  }
  let res: Awaited<ReturnType<UpstreamClient['post']>>;
  try {
    res = await upstream.post(target, adapter.path, body, endpoint.api, signal);
  } catch (err) {
    return fail(abortClass(signal) ?? classifyNetworkError(err), 0, (err as Error).message);
  }
  if (res.statusCode !== 200) {
    let message: string;
    try {
      message = await errorMessage(res.body);
    } catch (err) {
      message = (err as Error).message;
    }
    return fail(classifyStatus(res.statusCode), res.statusCode, message, res.statusCode === 429 ? (retryAfterMs(res.headers['retry-after']) ?? 1000) : undefined);
  }

  if (!stream) {
    try {
      const text = await res.body.text();
      const ttftMs = performance.now() - startedAt;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new MalformedUpstreamError('upstream answer is not valid JSON');
      }
      return { ok: true, kind: 'whole', completion: adapter.parseResponse(parsed), ttftMs };
    } catch (err) {
      return fail(classifyStreamError(err, signal), 200, (err as Error).message);
    }
  }

  const rest = decodeStream(res.body, adapter);
  const first: StreamPiece[] = [];
  let whole: boolean | undefined;
  try {
    for (;;) {
      const next = await rest.next();
      if (next.done) break;
      first.push(next.value);
      if (next.value.error !== undefined) return fail('upstream_5xx', 200, next.value.error);
      if (meaningful(next.value) && !(whole ??= readWhole())) break;
    }
  } catch (err) {
    res.body.destroy();
    return fail(classifyStreamError(err, signal), 200, (err as Error).message);
  }
  return { ok: true, kind: 'stream', first, rest, ttftMs: performance.now() - startedAt };
}
