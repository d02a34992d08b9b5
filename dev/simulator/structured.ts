// Answers that have a structure: a call of one of the offered tools (arguments made to fit its parameter
// schema), or JSON for `response_format` (an object, or a value that fits the given JSON schema). Enough
// to test tool use and structured output end to end without a real provider.
import { randomBytes } from 'node:crypto';
import { estimateTokens } from '../../core/tokens.ts';

type Schema = Record<string, unknown>;

export interface ToolCallAnswer {
  kind: 'tool';
  id: string;
  name: string;
  /** The arguments as JSON text. */
  arguments: string;
}

export interface JsonAnswer {
  kind: 'json';
  text: string;
}

export type StructuredAnswer = ToolCallAnswer | JsonAnswer;

const DEPTH_LIMIT = 8;

/** A value that fits a JSON schema (the common subset: types, properties, items, enum, const, bounds, anyOf). */
export function valueFor(schema: unknown, depth = 0): unknown {
  if (typeof schema !== 'object' || schema === null || depth > DEPTH_LIMIT) return null;
  const s = schema as Schema;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0) return valueFor(alternatives.find((a) => (a as Schema)?.type !== 'null') ?? alternatives[0], depth + 1);
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return valueFor(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? s.type[0]) : s.type;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) out[k] = valueFor(v, depth + 1);
      return out;
    }
    case 'array': {
      const n = Math.max(1, typeof s.minItems === 'number' ? s.minItems : 1);
      const cap = typeof s.maxItems === 'number' ? s.maxItems : n;
      return Array.from({ length: Math.min(n, cap) }, () => valueFor(s.items, depth + 1));
    }
    case 'string': {
      const min = typeof s.minLength === 'number' ? s.minLength : 0;
      if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
      if (s.format === 'date') return '2026-01-01';
      if (s.format === 'email') return 'someone@example.com';
      if (s.format === 'uri' || s.format === 'url') return 'https://example.com';
      return 'sure'.padEnd(min, 'x');
    }
    case 'integer':
    case 'number': {
      const lo = typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 1;
      return type === 'integer' ? Math.ceil(lo) : lo;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'sure';
  }
}

interface OfferedTool {
  name: string;
  parameters: unknown;
}

/** The tools a request offers, in either wire format. */
function toolsOf(body: Schema, api: 'openai' | 'anthropic'): OfferedTool[] {
  if (!Array.isArray(body.tools)) return [];
  return (body.tools as Schema[]).map((t) =>
    api === 'anthropic' ? { name: String(t.name), parameters: t.input_schema } : { name: String((t.function as Schema)?.name), parameters: (t.function as Schema)?.parameters },
  );
}

/** Whether the conversation's last turn hands back a tool's result (then the model answers in words). */
function afterToolResult(body: Schema, api: 'openai' | 'anthropic'): boolean {
  const last = Array.isArray(body.messages) ? (body.messages.at(-1) as Schema | undefined) : undefined;
  if (!last) return false;
  if (api === 'openai') return last.role === 'tool';
  return Array.isArray(last.content) && (last.content as Schema[]).some((b) => b.type === 'tool_result');
}

/** The tool the request forces (`tool_choice`), if it names one. */
function forcedTool(body: Schema, api: 'openai' | 'anthropic'): string | undefined {
  const c = body.tool_choice as Schema | string | undefined;
  if (typeof c !== 'object' || c === null) return undefined;
  return api === 'anthropic' ? (c.type === 'tool' ? String(c.name) : undefined) : ((c.function as Schema | undefined)?.name as string | undefined);
}

export function structuredAnswer(body: Schema, api: 'openai' | 'anthropic'): StructuredAnswer | undefined {
  const tools = toolsOf(body, api);
  const choice = body.tool_choice;
  const declined = choice === 'none' || (typeof choice === 'object' && choice !== null && (choice as Schema).type === 'none');
  if (tools.length > 0 && !declined && !afterToolResult(body, api)) {
    const name = forcedTool(body, api) ?? tools[0].name;
    const tool = tools.find((t) => t.name === name) ?? tools[0];
    const id = api === 'anthropic' ? `toolu_${randomBytes(10).toString('hex')}` : `call_${randomBytes(10).toString('hex')}`;
    return { kind: 'tool', id, name: tool.name, arguments: JSON.stringify(valueFor(tool.parameters ?? { type: 'object' })) };
  }
  const format = body.response_format as Schema | undefined;
  if (format?.type === 'json_object') return { kind: 'json', text: JSON.stringify({ answer: 'Sure' }) };
  if (format?.type === 'json_schema') return { kind: 'json', text: JSON.stringify(valueFor((format.json_schema as Schema | undefined)?.schema ?? { type: 'object' })) };
  return undefined;
}

/** The answer's length in tokens (core/tokens.ts's estimate, as for every simulated completion). */
export const structuredTokens = (a: StructuredAnswer): number => Math.max(1, estimateTokens(a.kind === 'tool' ? a.name + a.arguments : a.text));
