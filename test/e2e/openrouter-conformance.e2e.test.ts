import { createOpenRouter } from '@openrouter/ai-sdk-provider';
import { generateObject, generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startQuietService, stopProcess, type Child } from '../helpers/process.ts';
import { eventually } from '../helpers/service.ts';

const KEY = 'e2e-openrouter-key-0123456789abcdef';
let service: Child;
let base: string;
/** What the key was charged for each answer, as the answers said (usage.cost). */
const charged: number[] = [];

beforeAll(async () => {
  service = await startQuietService(KEY);
  base = `${service.url}/api/v1`;
}, 120_000);

afterAll(async () => {
  if (service) await stopProcess(service);
});

const openai = () => new OpenAI({ baseURL: base, apiKey: KEY, maxRetries: 0 });
const openrouter = () => createOpenRouter({ baseURL: base, apiKey: KEY, compatibility: 'strict' });
const get = async (path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  return { status: res.status, body: (await res.json()) as any };
};
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};
/** The cost OpenRouter's provider reports from usage accounting (`usage: { include: true }`). */
const costIn = (meta: unknown): number => (meta as { openrouter: { usage: { cost: number } } }).openrouter.usage.cost;
const recorded = (id: string) =>
  eventually(
    () => get(`/generation?id=${id}`),
    (r) => r.status === 200,
  ).then((r) => r.body.data);

describe('the openai SDK at …/api/v1', () => {
  it('chat: an answer with usage in OpenRouter units (cost is what the key is charged, split in cost_details)', async () => {
    const c = await openai().chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 12, user: 'end-user-42' });
    expect(c.choices[0].message.content).toMatch(/^Sure/);
    const usage = c.usage as any;
    expect(usage.completion_tokens).toBe(12);
    expect(usage.cost).toBeGreaterThan(0);
    expect(usage.cost).toBeCloseTo(usage.cost_details.upstream_inference_cost + usage.cost_details.platform_fee, 9);
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
    expect(usage.completion_tokens_details).toEqual({ reasoning_tokens: 0 });
    charged.push(usage.cost);

    const g = await recorded(c.id);
    expect(g).toMatchObject({
      id: c.id,
      model: 'openai/gpt-4o-mini',
      total_cost: usage.cost,
      upstream_inference_cost: usage.cost_details.upstream_inference_cost,
      finish_reason: 'length',
      native_finish_reason: 'length',
      external_user: 'end-user-42',
      cancelled: false,
      streamed: false,
      tokens_completion: 12,
      native_tokens_completion: 12,
      native_tokens_cached: 0,
      native_tokens_reasoning: 0,
      fallback_depth: 0,
    });
    expect(['OpenAI', 'Azure']).toContain(g.provider_name);
    expect(g.upstream_id).toMatch(/^chatcmpl-/);
    expect(g.generation_time).toBeGreaterThan(0);
    expect(g.attempts).toHaveLength(1);
  });

  it('stream: the text arrives in chunks and the last chunk carries the usage', async () => {
    const stream = await openai().chat.completions.create({ model: 'deepseek/deepseek-chat', messages: [{ role: 'user', content: 'Stream' }], max_tokens: 20, stream: true });
    let text = '';
    let usage: any;
    let id = '';
    for await (const chunk of stream) {
      id = chunk.id;
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toMatch(/^Sure/);
    expect(usage).toMatchObject({ completion_tokens: 20, cost: expect.any(Number), cost_details: { upstream_inference_cost: expect.any(Number) } });
    charged.push(usage.cost);
    expect(await recorded(id)).toMatchObject({ streamed: true, finish_reason: 'length', total_cost: usage.cost });
  });

  it('tools: a well-formed call, then an answer in words once the result is handed back', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } }, required: ['city', 'days'] },
        },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await openai().chat.completions.create({ model: 'openai/gpt-4o-mini', messages, tools });
    charged.push((first.usage as any).cost);
    const call = first.choices[0].message.tool_calls?.[0];
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    const fn = (call as { function: { name: string; arguments: string } }).function;
    expect(fn.name).toBe('get_weather');
    expect(JSON.parse(fn.arguments)).toEqual({ city: expect.any(String), days: expect.any(Number) });
    messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call!.id, content: '18C' });
    const second = await openai().chat.completions.create({ model: 'openai/gpt-4o-mini', messages, tools });
    charged.push((second.usage as any).cost);
    expect(second.choices[0].message.content).toMatch(/^Sure/);
  });

  it('tools, streamed: the call arrives in pieces that join into valid arguments', async () => {
    const stream = await openai().chat.completions.create({
      model: 'meta-llama/llama-3.3-70b-instruct',
      messages: [{ role: 'user', content: 'Look it up' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      stream: true,
    });
    let args = '';
    let name = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const t of chunk.choices[0]?.delta?.tool_calls ?? []) {
        name ||= t.function?.name ?? '';
        args += t.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) charged.push((chunk.usage as any).cost);
    }
    expect(name).toBe('lookup');
    expect(JSON.parse(args)).toEqual({ q: expect.any(String) });
    expect(finish).toBe('tool_calls');
  });

  it('tools on a model whose providers speak the Messages API: the same OpenAI tool calls, whole and streamed', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } } }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Find it' }];
    const whole = await openai().chat.completions.create({ model: 'anthropic/claude-sonnet-4.5', messages, tools, max_tokens: 200 });
    charged.push((whole.usage as any).cost);
    expect(whole.choices[0].finish_reason).toBe('tool_calls');
    const call = whole.choices[0].message.tool_calls?.[0] as { id: string; function: { name: string; arguments: string } };
    expect(call.function.name).toBe('search');
    expect(JSON.parse(call.function.arguments)).toEqual({ query: expect.any(String) });
    const stream = await openai().chat.completions.create({ model: 'anthropic/claude-sonnet-4.5', messages, tools, max_tokens: 200, stream: true });
    let args = '';
    for await (const chunk of stream) {
      for (const t of chunk.choices[0]?.delta?.tool_calls ?? []) args += t.function?.arguments ?? '';
      if (chunk.usage) charged.push((chunk.usage as any).cost);
    }
    expect(JSON.parse(args)).toEqual({ query: expect.any(String) });
  });

  it('structured output: JSON that fits the schema, whole and streamed', async () => {
    const schema = { type: 'object', properties: { title: { type: 'string' }, tags: { type: 'array', items: { type: 'string' }, minItems: 2 } }, required: ['title', 'tags'] };
    const c = await openai().chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Describe' }],
      response_format: { type: 'json_schema', json_schema: { name: 'doc', schema, strict: true } },
    });
    charged.push((c.usage as any).cost);
    const doc = JSON.parse(c.choices[0].message.content ?? '');
    expect(doc).toEqual({ title: expect.any(String), tags: [expect.any(String), expect.any(String)] });
    const stream = await openai().chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Describe' }],
      response_format: { type: 'json_object' },
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) charged.push((chunk.usage as any).cost);
    }
    expect(typeof JSON.parse(text)).toBe('object');
  });

  it('legacy completions: prompt in, choices[].text out', async () => {
    const c = await openai().completions.create({ model: 'openai/gpt-4o-mini', prompt: 'Once upon a time', max_tokens: 8 });
    expect(c.object).toBe('text_completion');
    expect(c.choices[0].text).toMatch(/^Sure/);
    charged.push((c.usage as any).cost);
  });

  it('legacy completions, streamed: text chunks, then usage', async () => {
    const stream = await openai().completions.create({ model: 'openai/gpt-4o-mini', prompt: 'Once', max_tokens: 6, stream: true });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) charged.push((chunk.usage as any).cost);
    }
    expect(text).toMatch(/^Sure/);
  });

  it('reasoning: extended thinking on the Messages API, shown unless excluded, whole and streamed', async () => {
    const body = { model: 'anthropic/claude-sonnet-4.5', messages: [{ role: 'user', content: 'Think first' }], max_tokens: 2000 };
    const shown = await post('/chat/completions', { ...body, reasoning: { effort: 'high' } });
    expect(shown.status).toBe(200);
    expect(shown.body.choices[0].message.reasoning).toMatch(/^Sure/);
    expect(shown.body.choices[0].message.content).toMatch(/^Sure/);
    charged.push(shown.body.usage.cost);
    const hidden = await post('/chat/completions', { ...body, reasoning: { effort: 'high', exclude: true } });
    expect(hidden.body.choices[0].message.reasoning).toBeUndefined();
    charged.push(hidden.body.usage.cost);
    const plain = await post('/chat/completions', body);
    expect(plain.body.choices[0].message.reasoning).toBeUndefined();
    // Thinking is billed as output, as the provider counts it.
    expect(hidden.body.usage.completion_tokens).toBeGreaterThan(plain.body.usage.completion_tokens - 1);
    charged.push(plain.body.usage.cost);
    const stream = await openai().chat.completions.create({ ...body, messages: [{ role: 'user', content: 'Think first' }], stream: true, include_reasoning: true } as any);
    let reasoning = '';
    let text = '';
    for await (const chunk of stream as any) {
      reasoning += chunk.choices[0]?.delta?.reasoning ?? '';
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) charged.push(chunk.usage.cost);
    }
    expect(reasoning).toMatch(/^Sure/);
    expect(text).toMatch(/^Sure/);
  });

  it('errors: OpenAI error classes with OpenRouter statuses', async () => {
    const err = await openai()
      .chat.completions.create({ model: 'nobody/no-such-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const bad = await new OpenAI({ baseURL: base, apiKey: 'sk-wrong', maxRetries: 0 }).models.list().catch((e: unknown) => e);
    expect(bad).not.toBeInstanceOf(Error); // the model list needs no key, as on OpenRouter
    const unauth = await new OpenAI({ baseURL: base, apiKey: 'sk-wrong', maxRetries: 0 }).chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(unauth).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('request options as OpenRouter accepts them', () => {
  it('models alone (no model): the first is served; an unknown option value is a clear 400', async () => {
    const r = await post('/chat/completions', { models: ['openai/gpt-4o-mini', 'deepseek/deepseek-chat'], messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    expect(r.status).toBe(200);
    expect(r.body.model).toBe('openai/gpt-4o-mini');
    charged.push(r.body.usage.cost);
    const none = await post('/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/model/);
    const transform = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], transforms: ['zip-it'] });
    expect(transform.status).toBe(400);
    expect(transform.body.error.param).toBe('transforms');
  });

  it('provider names by display name, sort as an object, data_collection and zdr filter on declared policies', async () => {
    const byName = await post('/chat/completions', {
      model: 'meta-llama/llama-3.3-70b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
      provider: { only: ['Groq', 'CEREBRAS'], sort: { by: 'throughput', partition: 'none' } },
    });
    expect(byName.status).toBe(200);
    expect(byName.headers.get('x-switchboard-provider')).toBe('cerebras'); // the faster of the two
    charged.push(byName.body.usage.cost);

    const deny = await post('/chat/completions', {
      model: 'deepseek/deepseek-chat',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
      provider: { order: ['deepseek'], data_collection: 'deny', max_price: { prompt: '10', completion: 10 } },
      switchboard: { explain: true },
    });
    expect(deny.status).toBe(200);
    expect(deny.headers.get('x-switchboard-provider')).not.toBe('deepseek');
    expect(deny.body.routing.plans[0].excluded).toContainEqual(expect.objectContaining({ provider: 'deepseek', reason: expect.stringMatching(/data_collection/) }));
    charged.push(deny.body.usage.cost);

    const zdr = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], provider: { zdr: true } });
    expect(zdr.status).toBe(404);
    expect(zdr.body.error.message).toMatch(/keeps prompts/);
  });

  it('transforms: ["middle-out"] fits an over-long conversation into the context, counted and explained', async () => {
    // microsoft/phi-4: 16,384 tokens of context on every endpoint; this conversation holds about 20,000.
    const messages = [
      { role: 'system', content: 'You are terse.' },
      ...Array.from({ length: 40 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `turn ${i} `.padEnd(2000, 'x') })),
    ];
    const body = { model: 'microsoft/phi-4', messages, max_tokens: 8 };
    const plain = await post('/chat/completions', body);
    expect(plain.status).toBe(400);
    expect(plain.body.error.message).toMatch(/context length/);
    const fitted = await post('/chat/completions', { ...body, transforms: ['middle-out'], switchboard: { explain: true } });
    expect(fitted.status).toBe(200);
    const [t] = fitted.body.routing.transforms;
    expect(t).toMatchObject({ name: 'middle-out', removed_messages: expect.any(Number), removed_tokens: expect.any(Number) });
    expect(t.removed_messages).toBeGreaterThan(0);
    expect(fitted.headers.get('x-switchboard-middle-out')).toMatch(new RegExp(`removed ${t.removed_messages} messages`));
    expect(fitted.body.usage.prompt_tokens).toBeLessThanOrEqual(16_384 - 8);
    charged.push(fitted.body.usage.cost);
  });

  it('require_parameters: only endpoints that support every parameter the request sets', async () => {
    // Claude's endpoints speak the Messages API, which has no frequency_penalty: dropped unless required.
    const body = { model: 'anthropic/claude-sonnet-4.5', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, frequency_penalty: 0.5 };
    const lenient = await post('/chat/completions', body);
    expect(lenient.status).toBe(200);
    charged.push(lenient.body.usage.cost);
    const strict = await post('/chat/completions', { ...body, provider: { require_parameters: true } });
    expect(strict.status).toBe(404);
    expect(strict.body.error.message).toMatch(/does not support frequency_penalty \(provider.require_parameters\)/);
  });
});

describe('the AI SDK with OpenRouter’s provider at …/api/v1', () => {
  it('generateText and streamText, with usage accounting', async () => {
    const model = openrouter().chat('openai/gpt-4o-mini', { usage: { include: true } });
    const r = await generateText({ model, prompt: 'Hello', maxOutputTokens: 10 });
    expect(r.text).toMatch(/^Sure/);
    expect(r.usage.outputTokens).toBe(10);
    const accounting = (r.providerMetadata?.openrouter as any)?.usage;
    expect(accounting.cost).toBeGreaterThan(0);
    charged.push(accounting.cost);

    const s = streamText({ model, prompt: 'Hello', maxOutputTokens: 10 });
    let text = '';
    for await (const part of s.textStream) text += part;
    expect(text).toMatch(/^Sure/);
    const meta = (await s.providerMetadata)?.openrouter as any;
    expect(meta.usage.cost).toBeGreaterThan(0);
    charged.push(meta.usage.cost);
  });

  it('tools: the model calls the tool, the SDK runs it and the model answers', async () => {
    let ran = 0;
    const r = await generateText({
      model: openrouter().chat('openai/gpt-4o-mini', { usage: { include: true } }),
      prompt: 'What is the weather in Oslo?',
      tools: {
        weather: tool({
          description: 'weather by city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            ran++;
            return `${city}: 3C`;
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    expect(ran).toBe(1);
    expect(r.steps[0].toolCalls[0]).toMatchObject({ toolName: 'weather', input: { city: expect.any(String) } });
    expect(r.text).toMatch(/^Sure/);
    for (const step of r.steps) charged.push(costIn(step.providerMetadata));
  });

  it('generateObject with a schema', async () => {
    const r = await generateObject({
      model: openrouter().chat('openai/gpt-4o-mini', { usage: { include: true } }),
      schema: z.object({ name: z.string(), count: z.number().int().min(1), tags: z.array(z.string()) }),
      prompt: 'Make one',
    });
    expect(r.object).toEqual({ name: expect.any(String), count: expect.any(Number), tags: expect.any(Array) });
    charged.push(costIn(r.providerMetadata));
  });

  it('provider preferences and model fallbacks in the provider settings', async () => {
    const r = await generateText({
      model: openrouter().chat('meta-llama/llama-3.3-70b-instruct', { usage: { include: true }, models: ['deepseek/deepseek-chat'], provider: { only: ['together'] } }),
      prompt: 'Hi',
      maxOutputTokens: 5,
    });
    expect(r.text).toMatch(/^Sure/);
    expect(r.response.headers?.['x-switchboard-provider']).toBe('together');
    charged.push(costIn(r.providerMetadata));
    const schemaOnly = jsonSchema<{ ok: boolean }>({ type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] });
    const o = await generateObject({ model: openrouter().chat('openai/gpt-4o-mini', { usage: { include: true } }), schema: schemaOnly, prompt: 'ok?' });
    expect(o.object).toEqual({ ok: true });
    charged.push(costIn(o.providerMetadata));
  });
});

describe('catalog, key and accounting routes in OpenRouter’s names and units', () => {
  it('models, a model’s endpoints and the providers', async () => {
    const models = (await get('/models')).body;
    const mini = models.data.find((m: any) => m.id === 'openai/gpt-4o-mini');
    expect(mini).toMatchObject({ canonical_slug: 'openai/gpt-4o-mini', pricing: { prompt: '0.00000015', completion: '0.0000006', request: '0', image: '0' } });
    const endpoints = (await get('/models/openai/gpt-4o-mini/endpoints')).body.data;
    expect(endpoints).toMatchObject({ id: 'openai/gpt-4o-mini', architecture: { tokenizer: 'GPT' } });
    const served = endpoints.endpoints.filter((e: any) => e.uptime_last_30m !== null);
    expect(served.length).toBeGreaterThan(0);
    for (const e of served) {
      expect(e.uptime_last_30m).toBe(100);
      expect(e.uptime_last_1d).toBe(100);
      expect(e.latency_last_30m.p50).toBeGreaterThan(0);
      expect(e.latency_last_30m.p99).toBeGreaterThanOrEqual(e.latency_last_30m.p50);
      expect(e.pricing.prompt).toBe('0.00000015');
      expect(e.supported_parameters).toEqual(expect.arrayContaining(['tools', 'response_format']));
      expect(e.status).toBe(0);
    }
    expect((await get('/models/nobody/nothing/endpoints')).status).toBe(404);
    const providers = (await get('/providers')).body.data;
    expect(providers).toContainEqual(expect.objectContaining({ slug: 'groq', name: 'Groq' }));
  });

  it('the key’s usage is the sum of what every answer said it cost', async () => {
    const total = charged.reduce((a, b) => a + b, 0);
    expect(charged.length).toBeGreaterThanOrEqual(15);
    const key = await eventually(
      () => get('/key'),
      (r) => Math.abs(r.body.data.usage - total) < 1e-9,
      30_000,
    );
    expect(key.body.data).toMatchObject({ limit: null, limit_remaining: null, is_free_tier: false, rate_limit: { interval: '1m' } });
    expect(key.body.data.usage).toBeCloseTo(total, 9);
    expect(key.body.data.usage_daily).toBeCloseTo(total, 9);
    expect((await get('/auth/key')).body).toEqual(key.body);
    const credits = (await get('/credits')).body.data;
    expect(credits.total_usage).toBeCloseTo(total, 9);
    const activity = (await get('/activity')).body.data;
    expect(activity.reduce((a: number, r: any) => a + r.usage, 0)).toBeCloseTo(total, 9);
  });
});
