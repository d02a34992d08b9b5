// The simulator's structured answers: tool calls whose arguments fit the tool's parameters, and JSON that
// fits a response_format schema, in both wire formats.
import { describe, expect, it } from 'vitest';
import { structuredAnswer, valueFor } from '../../dev/simulator/structured.ts';

describe('simulator: values that fit a JSON schema', () => {
  it('follows types, required nesting, enums, constants, bounds and alternatives', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 8 },
        count: { type: 'integer', minimum: 3 },
        ratio: { type: 'number', exclusiveMinimum: 0.5 },
        ok: { type: 'boolean' },
        kind: { enum: ['a', 'b'] },
        fixed: { const: 42 },
        when: { type: 'string', format: 'date-time' },
        maybe: { anyOf: [{ type: 'null' }, { type: 'string' }] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
        nested: { type: 'object', properties: { inner: { type: ['integer', 'null'] } } },
      },
    };
    const v = valueFor(schema) as Record<string, unknown>;
    expect((v.name as string).length).toBeGreaterThanOrEqual(8);
    expect(v.count).toBe(3);
    expect(v.ratio as number).toBeGreaterThan(0.5);
    expect(v).toMatchObject({ ok: true, kind: 'a', fixed: 42, maybe: expect.any(String), nested: { inner: 1 } });
    expect(Number.isNaN(Date.parse(v.when as string))).toBe(false);
    expect(v.tags).toEqual([expect.any(String), expect.any(String)]);
  });

  it('stops at a depth limit on a schema that nests without end', () => {
    const deep: Record<string, unknown> = { type: 'object', properties: {} };
    let cur = deep;
    for (let i = 0; i < 50; i++) {
      const next = { type: 'object', properties: {} };
      (cur.properties as Record<string, unknown>).x = next;
      cur = next;
    }
    expect(() => JSON.stringify(valueFor(deep))).not.toThrow();
  });
});

describe('simulator: which structured answer a request gets', () => {
  const tools = [
    { type: 'function', function: { name: 'first', parameters: { type: 'object', properties: { a: { type: 'string' } } } } },
    { type: 'function', function: { name: 'second', parameters: { type: 'object', properties: { b: { type: 'integer' } } } } },
  ];
  const user = [{ role: 'user', content: 'go' }];

  it('calls the first tool, or the one tool_choice names, with fitting arguments', () => {
    const a = structuredAnswer({ messages: user, tools }, 'openai');
    expect(a).toMatchObject({ kind: 'tool', name: 'first', id: expect.stringMatching(/^call_/) });
    expect(JSON.parse((a as { arguments: string }).arguments)).toEqual({ a: expect.any(String) });
    const forced = structuredAnswer({ messages: user, tools, tool_choice: { type: 'function', function: { name: 'second' } } }, 'openai');
    expect(forced).toMatchObject({ kind: 'tool', name: 'second' });
    expect(JSON.parse((forced as { arguments: string }).arguments)).toEqual({ b: 1 });
  });

  it('answers in words when tools are declined or a tool result was handed back', () => {
    expect(structuredAnswer({ messages: user, tools, tool_choice: 'none' }, 'openai')).toBeUndefined();
    expect(structuredAnswer({ messages: [...user, { role: 'tool', tool_call_id: 'x', content: 'done' }], tools }, 'openai')).toBeUndefined();
    const anthropicResult = [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'done' }] }];
    expect(structuredAnswer({ messages: anthropicResult, tools: [{ name: 'first', input_schema: {} }] }, 'anthropic')).toBeUndefined();
  });

  it('reads tools in the Messages API format too', () => {
    const a = structuredAnswer(
      { messages: user, tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }], tool_choice: { type: 'tool', name: 'lookup' } },
      'anthropic',
    );
    expect(a).toMatchObject({ kind: 'tool', name: 'lookup', id: expect.stringMatching(/^toolu_/) });
  });

  it('answers JSON for json_object and a fitting value for json_schema', () => {
    const obj = structuredAnswer({ messages: user, response_format: { type: 'json_object' } }, 'openai');
    expect(typeof JSON.parse((obj as { text: string }).text)).toBe('object');
    const fit = structuredAnswer(
      { messages: user, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { n: { type: 'integer', minimum: 5 } } } } } },
      'openai',
    );
    expect(JSON.parse((fit as { text: string }).text)).toEqual({ n: 5 });
    expect(structuredAnswer({ messages: user }, 'openai')).toBeUndefined();
  });
});
