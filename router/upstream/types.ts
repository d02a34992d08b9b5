import type { Endpoint } from '../../catalog/catalog.ts';
import type { ChatRequest } from '../chat-schema.ts';
import type { SseEvent } from './sse.ts';

export interface ToolCall {
  index?: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  /** The model's reasoning, when it was asked to think and to show it. */
  reasoning?: string;
  tool_calls?: ToolCall[];
}

export interface Usage {
  prompt: number;
  completion: number;
  /** Prompt tokens read from the provider's cache, when it reports them. */
  cached?: number;
  /** Completion tokens spent on reasoning, when it reports them. */
  reasoning?: number;
}

export interface ParsedCompletion {
  message: AssistantMessage;
  finishReason: string;
  /** The finish reason in the provider's own words. */
  nativeFinishReason?: string;
  /** The provider's id of its answer. */
  upstreamId?: string;
  usage: Usage | undefined;
}

/** What one upstream stream event means, in OpenAI terms. */
export interface StreamPiece {
  role?: 'assistant';
  content?: string;
  reasoning?: string;
  toolCalls?: ToolCall[];
  finishReason?: string;
  nativeFinishReason?: string;
  upstreamId?: string;
  usage?: Partial<Usage>;
  done?: boolean;
  /** The provider reported an error inside the stream. */
  error?: string;
}

export interface StreamDecoder {
  decode(event: SseEvent): StreamPiece[];
}

export interface Adapter {
  /** Path below the provider's base URL. */
  path: string;
  buildBody(req: ChatRequest, endpoint: Endpoint, stream: boolean): Record<string, unknown>;
  /** Throws on a body that is not a completion of this format. */
  parseResponse(body: unknown): ParsedCompletion;
  streamDecoder(): StreamDecoder;
}

export class MalformedUpstreamError extends Error {
  override name = 'MalformedUpstreamError';
}
