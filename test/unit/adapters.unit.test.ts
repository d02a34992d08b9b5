import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog, type Endpoint } from '../../catalog/catalog.ts';
import type { ChatRequest } from '../../router/chat-schema.ts';
import { anthropicAdapter } from '../../router/upstream/anthropic.ts';
import { openAiAdapter } from '../../router/upstream/openai.ts';
import { SseParser } from '../../router/upstream/sse.ts';
import type { Adapter, StreamPiece } from '../../router/upstream/types.ts';
import { anthropicMessage, anthropicToolUse, openAiCompletion, openAiToolCall } from '../fixtures/payloads.ts';

const catalog = loadCatalog();
const claude = catalog.endpoint('anthropic:anthropic/claude-sonnet-4.5') as Endpoint;
const together = catalog.endpoint('together:meta-llama/llama-3.3-70b-instruct') as Endpoint;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

/** Feed a recorded stream through the parser in awkward slices, as a network would. */
function decodeAll(adapter: Adapter, text: string, slice = 7): StreamPiece[] {
  const parser = new SseParser();
  const decoder = adapter.streamDecoder();
  const out: StreamPiece[] = [];
  for (let i = 0; i < text.length; i += slice) for (const ev of parser.push(text.slice(i, i + slice))) out.push(...decoder.decode(ev));
  return out;
}

const request: ChatRequest = {
  model: 'anthropic/claude-sonnet-4.5',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Weather in SF?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"SF"}' } }] },
    { role: 'tool', tool_call_id: 'toolu_1', content: '18C and foggy' },
    { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
  ],
  max_tokens: 300,
  temperature: 1.4,
  stop: 'END',
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'weather by city', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }],
  provider: { sort: 'price' },
  models: ['openai/gpt-4o'],
};

describe('OpenAI-compatible adapter', () => {
  it('forwards the body with the provider model id and without routing fields', () => {
    const body = openAiAdapter.buildBody({ ...request, model: 'meta-llama/llama-3.3-70b-instruct' }, together, true);
    expect(body.model).toBe('meta-llama/Llama-3.3-70B-Instruct-Turbo');
    expect(body.provider).toBeUndefined();
    expect(body.models).toBeUndefined();
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.messages).toEqual(request.messages);
    expect(body.temperature).toBe(1.4);
  });

  it('parses a recorded completion and a recorded tool call', () => {
    const c = openAiAdapter.parseResponse(openAiCompletion);
    expect(c.message.content).toMatch(/wooden boardwalk/);
    expect(c.finishReason).toBe('stop');
    expect(c.usage).toEqual({ prompt: 1117, completion: 46, cached: 0 });
    expect(c.upstreamId).toBe(openAiCompletion.id);
    const t = openAiAdapter.parseResponse(openAiToolCall);
    expect(t.message.content).toBeNull();
    expect(t.message.tool_calls?.[0].function?.name).toBe('get_current_weather');
    expect(t.finishReason).toBe('tool_calls');
  });

  it('rejects a body that is not a completion', () => {
    expect(() => openAiAdapter.parseResponse({ object: 'list', data: [] })).toThrow(/choices/);
  });

  it('decodes a recorded stream split at arbitrary points', () => {
    const pieces = decodeAll(openAiAdapter, fixture('openai-stream.txt'));
    expect(pieces.map((p) => p.content ?? '').join('')).toBe('Hello!');
    expect(pieces.find((p) => p.finishReason)?.finishReason).toBe('stop');
    expect(pieces.find((p) => p.usage)?.usage).toEqual({ prompt: 9, completion: 2, cached: 0, reasoning: 0 });
    expect(pieces[pieces.length - 1].done).toBe(true);
  });

  it('reports a data line that is not JSON as malformed', () => {
    const d = openAiAdapter.streamDecoder();
    expect(() => d.decode({ event: undefined, data: '{"choices": [' })).toThrow(/not JSON/);
  });
});

describe('Anthropic Messages adapter', () => {
  it('translates system, tool calls, tool results, stop and tools into a Messages request', () => {
    const body = anthropicAdapter.buildBody(request, claude, false) as Record<string, any>;
    expect(body.model).toBe('claude-sonnet-4-5-20250929');
    expect(body.system).toBe('You are terse.');
    expect(body.max_tokens).toBe(300);
    expect(body.temperature).toBe(1); // Messages API caps temperature at 1
    expect(body.stop_sequences).toEqual(['END']);
    expect(body.tools).toEqual([{ name: 'get_weather', description: 'weather by city', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in SF?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'SF' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C and foggy' },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });

  it('sets max_tokens when the client did not, within the endpoint limit', () => {
    const body = anthropicAdapter.buildBody({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, { ...claude, maxCompletionTokens: 1000 }, false);
    expect(body.max_tokens).toBe(1000);
  });

  it('asks for extended thinking for `reasoning`, within max_tokens and without temperature; not when it cannot fit', () => {
    const ask = (extra: Partial<ChatRequest>) => anthropicAdapter.buildBody({ ...request, max_tokens: 4000, ...extra } as ChatRequest, claude, false) as Record<string, any>;
    expect(ask({ reasoning: { effort: 'high' } })).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 3200 }, max_tokens: 4000 });
    expect(ask({ reasoning: { effort: 'high' } }).temperature).toBeUndefined();
    expect(ask({ reasoning: { max_tokens: 9000 } }).thinking).toEqual({ type: 'enabled', budget_tokens: 3999 });
    expect(ask({ reasoning: { effort: 'low' } }).thinking).toEqual({ type: 'enabled', budget_tokens: 1024 }); // the API's least
    expect(ask({ include_reasoning: true }).thinking).toEqual({ type: 'enabled', budget_tokens: 2000 });
    expect(ask({ reasoning: { effort: 'none' } }).thinking).toBeUndefined();
    expect(ask({ reasoning: { effort: 'high' }, max_tokens: 800 }).thinking).toBeUndefined();
    expect(ask({}).thinking).toBeUndefined();
  });

  it('reads thinking blocks and thinking deltas as reasoning', () => {
    const c = anthropicAdapter.parseResponse({ ...anthropicMessage, content: [{ type: 'thinking', thinking: 'Let me see.', signature: 's' }, ...anthropicMessage.content] });
    expect(c.message).toMatchObject({ reasoning: 'Let me see.', content: 'Hi! My name is Claude.' });
    const d = anthropicAdapter.streamDecoder();
    expect(d.decode({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}' })).toEqual([
      { reasoning: 'Hmm' },
    ]);
  });

  it('parses recorded messages into OpenAI completions', () => {
    const c = anthropicAdapter.parseResponse(anthropicMessage);
    expect(c.message.content).toBe('Hi! My name is Claude.');
    expect(c.finishReason).toBe('stop');
    expect(c.usage).toEqual({ prompt: 2095, completion: 503, cached: 0 });
    expect(c.nativeFinishReason).toBe(anthropicMessage.stop_reason);
    const t = anthropicAdapter.parseResponse(anthropicToolUse);
    expect(t.finishReason).toBe('tool_calls');
    expect(t.message.tool_calls).toEqual([
      { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } },
    ]);
  });

  it('decodes a recorded stream with text and a tool call', () => {
    const pieces = decodeAll(anthropicAdapter, fixture('anthropic-stream.txt'), 11);
    expect(pieces.map((p) => p.content ?? '').join('')).toBe("Okay, let's check the weather.");
    const tools = pieces.flatMap((p) => p.toolCalls ?? []);
    expect(tools[0]).toMatchObject({ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', function: { name: 'get_weather' } });
    expect(tools.map((t) => t.function?.arguments ?? '').join('')).toBe('{"location": "San Francisco, CA"}');
    expect(pieces.find((p) => p.finishReason)?.finishReason).toBe('tool_calls');
    expect(pieces.find((p) => p.usage?.prompt !== undefined)?.usage?.prompt).toBe(472);
    expect(pieces.find((p) => p.usage?.completion !== undefined)?.usage?.completion).toBe(89);
    expect(pieces[pieces.length - 1].done).toBe(true);
  });

  it('turns an error event into an error piece', () => {
    const d = anthropicAdapter.streamDecoder();
    expect(d.decode({ event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' })).toEqual([{ error: 'Overloaded' }]);
  });
});

describe('SSE parser', () => {
  it('handles CRLF, comments, multi-line data and events split across chunks', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\r\n\r\nevent: a\r\ndata: 1\r\nda')).toEqual([]);
    expect(p.push('ta: 2\r\n\r\ndata: x\n\n')).toEqual([
      { event: 'a', data: '1\n2' },
      { event: undefined, data: 'x' },
    ]);
    expect(p.pending).toBe('');
  });
});
