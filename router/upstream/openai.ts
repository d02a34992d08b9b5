// OpenAI-compatible pass-through: most providers speak it, so the body is forwarded nearly as sent, with
// the provider's own model id and our routing extensions removed.
import type { ChatRequest } from '../chat-schema.ts';
import type { Endpoint } from '../../catalog/catalog.ts';
import { MalformedUpstreamError, type Adapter, type ParsedCompletion, type StreamPiece, type Usage } from './types.ts';

/** Fields of the request that are ours (routing) and must not reach a provider. */
const OURS = new Set(['model', 'models', 'provider', 'route', 'stream', 'stream_options', 'switchboard', 'transforms', 'usage']);

const count = (details: unknown, field: string): number | undefined => {
  const v = (details as Record<string, unknown> | null | undefined)?.[field];
  return typeof v === 'number' ? v : undefined;
};

function usageOf(u: unknown): Usage | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const { prompt_tokens, completion_tokens, prompt_tokens_details, completion_tokens_details } = u as Record<string, unknown>;
  if (typeof prompt_tokens !== 'number' || typeof completion_tokens !== 'number') return undefined;
  const usage: Usage = { prompt: prompt_tokens, completion: completion_tokens };
  const cached = count(prompt_tokens_details, 'cached_tokens');
  const reasoning = count(completion_tokens_details, 'reasoning_tokens');
  if (cached !== undefined) usage.cached = cached;
  if (reasoning !== undefined) usage.reasoning = reasoning;
  return usage;
}

export const openAiAdapter: Adapter = {
  path: '/v1/chat/completions',

  buildBody(req: ChatRequest, endpoint: Endpoint, stream: boolean) {
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(req)) if (!OURS.has(k)) body[k] = v;
    body.model = endpoint.providerModelId;
    body.stream = stream;
    if (stream) body.stream_options = { include_usage: true };
    return body;
  },

  parseResponse(body: unknown): ParsedCompletion {
    const choice = (body as { choices?: unknown[] })?.choices?.[0] as Record<string, unknown> | undefined;
    const message = choice?.message as Record<string, unknown> | undefined;
    if (!choice || !message) throw new MalformedUpstreamError('upstream answer has no choices[0].message');
    const content = typeof message.content === 'string' ? message.content : null;
    const out: ParsedCompletion = {
      message: { role: 'assistant', content },
      finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : 'stop',
      nativeFinishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined,
      upstreamId: typeof (body as { id?: unknown }).id === 'string' ? (body as { id: string }).id : undefined,
      usage: usageOf((body as { usage?: unknown }).usage),
    };
    if (Array.isArray(message.tool_calls)) out.message.tool_calls = message.tool_calls;
    if (typeof message.reasoning === 'string' && message.reasoning !== '') out.message.reasoning = message.reasoning;
    return out;
  },

  streamDecoder() {
    return {
      decode(event) {
        if (event.data === '[DONE]') return [{ done: true }];
        let chunk: Record<string, unknown>;
        try {
          chunk = JSON.parse(event.data);
        } catch {
          throw new MalformedUpstreamError('upstream stream sent a data line that is not JSON');
        }
        if (chunk.error) return [{ error: String((chunk.error as { message?: unknown }).message ?? 'upstream error') }];
        const pieces: StreamPiece[] = [];
        const choice = (chunk.choices as Record<string, unknown>[] | undefined)?.[0];
        if (choice) {
          const delta = (choice.delta ?? {}) as Record<string, unknown>;
          const piece: StreamPiece = {};
          if (delta.role === 'assistant') piece.role = 'assistant';
          if (typeof delta.content === 'string' && delta.content !== '') piece.content = delta.content;
          if (typeof delta.reasoning === 'string' && delta.reasoning !== '') piece.reasoning = delta.reasoning;
          if (Array.isArray(delta.tool_calls)) piece.toolCalls = delta.tool_calls;
          if (typeof choice.finish_reason === 'string') piece.finishReason = piece.nativeFinishReason = choice.finish_reason;
          if (typeof chunk.id === 'string') piece.upstreamId = chunk.id;
          pieces.push(piece);
        }
        const usage = usageOf(chunk.usage);
        if (usage) pieces.push({ usage });
        return pieces;
      },
    };
  },
};
