// Anthropic Messages translation: OpenAI chat request → Messages request, and Messages answers (whole or
// streamed) → OpenAI completions. System prompts move to `system`, tools to `input_schema`, stop reasons map.
import type { ChatMessage, ChatRequest } from '../chat-schema.ts';
import type { Endpoint } from '../../catalog/catalog.ts';
import { requestedMaxTokens } from '../../core/tokens.ts';
import { MalformedUpstreamError, type Adapter, type ParsedCompletion, type StreamPiece, type ToolCall, type Usage } from './types.ts';

const STOP_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const text = (content: ChatMessage['content']): string => (typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => p.text ?? '').join('') : '');

type AnthropicBlock = Record<string, unknown>;

/** Share of max_tokens an effort may think for (OpenRouter's rule for budget-based providers). */
const EFFORT_SHARE: Record<string, number> = { xhigh: 0.95, high: 0.8, medium: 0.5, low: 0.2, minimal: 0.1 };
/** The Messages API's least thinking budget. */
const MIN_BUDGET = 1024;

/**
 * Extended thinking for `reasoning` (or `include_reasoning`): a budget from `reasoning.max_tokens` or the
 * effort's share of max_tokens, at least the API's minimum and below max_tokens (which stays as asked, so
 * the spend held for the request still covers it). Undefined when it is not asked for or does not fit.
 */
export function thinkingBudget(req: ChatRequest, maxTokens: number): number | undefined {
  const r = req.reasoning;
  const asked = r !== undefined ? r.enabled !== false && r.effort !== 'none' : req.include_reasoning === true;
  if (!asked) return undefined;
  const wanted = r?.max_tokens ?? Math.floor(maxTokens * EFFORT_SHARE[r?.effort ?? 'medium']);
  const budget = Math.min(Math.max(wanted, MIN_BUDGET), maxTokens - 1);
  return budget >= MIN_BUDGET ? budget : undefined;
}
type AnthropicMessage = { role: 'user' | 'assistant'; content: AnthropicBlock[] };

/** Messages API wants alternating user/assistant turns; consecutive same-role turns are merged. */
function toMessages(messages: ChatMessage[]): { system: string | undefined; messages: AnthropicMessage[] } {
  const system: string[] = [];
  const out: AnthropicMessage[] = [];
  const push = (role: 'user' | 'assistant', blocks: AnthropicBlock[]) => {
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'developer') {
      system.push(text(m.content));
    } else if (m.role === 'tool') {
      push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id ?? '', content: text(m.content) }]);
    } else if (m.role === 'assistant') {
      const blocks: AnthropicBlock[] = [];
      const t = text(m.content);
      if (t !== '') blocks.push({ type: 'text', text: t });
      for (const call of (m.tool_calls ?? []) as ToolCall[]) {
        let input: unknown = {};
        try {
          input = JSON.parse(call.function?.arguments ?? '{}');
        } catch {
          input = {};
        }
        blocks.push({ type: 'tool_use', id: call.id ?? '', name: call.function?.name ?? '', input });
      }
      push('assistant', blocks.length ? blocks : [{ type: 'text', text: '' }]);
    } else {
      push('user', [{ type: 'text', text: text(m.content) }]);
    }
  }
  return { system: system.length ? system.join('\n\n') : undefined, messages: out };
}

function usageOf(u: unknown): Partial<Usage> {
  const r = (u ?? {}) as Record<string, unknown>;
  const out: Partial<Usage> = {};
  const cached = typeof r.cache_read_input_tokens === 'number' ? r.cache_read_input_tokens : undefined;
  if (typeof r.input_tokens === 'number') out.prompt = r.input_tokens + (cached ?? 0);
  if (cached !== undefined) out.cached = cached;
  if (typeof r.output_tokens === 'number') out.completion = r.output_tokens;
  return out;
}

export const anthropicAdapter: Adapter = {
  path: '/v1/messages',

  buildBody(req: ChatRequest, endpoint: Endpoint, stream: boolean) {
    const { system, messages } = toMessages(req.messages);
    // Messages API requires max_tokens; without one from the client, allow what the endpoint can give up to 4096.
    const maxTokens = requestedMaxTokens(req) ?? Math.min(4096, endpoint.maxCompletionTokens);
    const body: Record<string, unknown> = { model: endpoint.providerModelId, max_tokens: maxTokens, messages, stream };
    if (system !== undefined) body.system = system;
    const budget = thinkingBudget(req, maxTokens);
    // Thinking takes no temperature or top_p (the API refuses them together).
    if (budget !== undefined) body.thinking = { type: 'enabled', budget_tokens: budget };
    else if (req.temperature !== undefined) body.temperature = Math.min(req.temperature, 1);
    if (req.top_p !== undefined && budget === undefined) body.top_p = req.top_p;
    if (req.stop !== undefined && req.stop !== null) body.stop_sequences = Array.isArray(req.stop) ? req.stop : [req.stop];
    if (req.tools) {
      body.tools = req.tools.map((t) => ({
        name: t.function.name,
        description: t.function.description,
        input_schema: t.function.parameters ?? { type: 'object', properties: {} },
      }));
    }
    if (req.user !== undefined) body.metadata = { user_id: req.user };
    return body;
  },

  parseResponse(body: unknown): ParsedCompletion {
    const b = body as Record<string, unknown>;
    if (b?.type !== 'message' || !Array.isArray(b.content)) throw new MalformedUpstreamError('upstream answer is not a Messages API message');
    let content = '';
    let reasoning = '';
    const toolCalls: ToolCall[] = [];
    for (const block of b.content as AnthropicBlock[]) {
      if (block.type === 'text') content += String(block.text ?? '');
      else if (block.type === 'thinking') reasoning += String(block.thinking ?? '');
      else if (block.type === 'tool_use') {
        toolCalls.push({ id: String(block.id), type: 'function', function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) } });
      }
    }
    const u = usageOf(b.usage);
    const out: ParsedCompletion = {
      message: { role: 'assistant', content: content === '' && toolCalls.length ? null : content },
      finishReason: STOP_REASONS[String(b.stop_reason)] ?? 'stop',
      nativeFinishReason: typeof b.stop_reason === 'string' ? b.stop_reason : undefined,
      upstreamId: typeof b.id === 'string' ? b.id : undefined,
      usage: u.prompt !== undefined && u.completion !== undefined ? { ...u, prompt: u.prompt, completion: u.completion } : undefined,
    };
    if (toolCalls.length) out.message.tool_calls = toolCalls;
    if (reasoning !== '') out.message.reasoning = reasoning;
    return out;
  },

  streamDecoder() {
    // Tool-use blocks are numbered by content index upstream and by tool index in OpenAI chunks.
    const toolIndexByBlock = new Map<number, number>();
    return {
      decode(event) {
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(event.data);
        } catch {
          throw new MalformedUpstreamError('upstream stream sent a data line that is not JSON');
        }
        const type = e.type ?? event.event;
        switch (type) {
          case 'message_start': {
            const message = e.message as Record<string, unknown> | undefined;
            const u = usageOf(message?.usage);
            const piece: StreamPiece = { role: 'assistant', usage: u.prompt === undefined ? {} : { prompt: u.prompt } };
            if (typeof message?.id === 'string') piece.upstreamId = message.id;
            return [piece];
          }
          case 'content_block_start': {
            const block = e.content_block as AnthropicBlock | undefined;
            if (block?.type !== 'tool_use') return [];
            const index = toolIndexByBlock.size;
            toolIndexByBlock.set(Number(e.index), index);
            return [{ toolCalls: [{ index, id: String(block.id), type: 'function', function: { name: String(block.name), arguments: '' } }] }];
          }
          case 'content_block_delta': {
            const d = (e.delta ?? {}) as Record<string, unknown>;
            if (d.type === 'text_delta') return [{ content: String(d.text ?? '') }];
            if (d.type === 'thinking_delta') return [{ reasoning: String(d.thinking ?? '') }];
            if (d.type === 'input_json_delta') {
              return [{ toolCalls: [{ index: toolIndexByBlock.get(Number(e.index)) ?? 0, function: { arguments: String(d.partial_json ?? '') } }] }];
            }
            return [];
          }
          case 'message_delta': {
            const d = (e.delta ?? {}) as Record<string, unknown>;
            const piece: StreamPiece = { usage: usageOf(e.usage) };
            if (typeof d.stop_reason === 'string') {
              piece.finishReason = STOP_REASONS[d.stop_reason] ?? 'stop';
              piece.nativeFinishReason = d.stop_reason;
            }
            return [piece];
          }
          case 'message_stop':
            return [{ done: true }];
          case 'error':
            return [{ error: String((e.error as Record<string, unknown> | undefined)?.message ?? 'upstream error') }];
          default:
            return []; // ping, content_block_stop
        }
      },
    };
  },
};
