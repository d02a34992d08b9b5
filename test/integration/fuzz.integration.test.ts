// Thousands of random and mutated request bodies: every answer is a 200 or a 4xx with an OpenAI error
// body, never a 5xx, and the service keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, startTestService } from '../helpers/service.ts';

let s: Service;
beforeAll(async () => {
  s = await startTestService({ SIMULATOR_LATENCY_SCALE: '0', RATE_LIMIT_PER_MINUTE: '10000000', BODY_LIMIT_BYTES: '65536' });
});
afterAll(async () => s?.close());

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

const random = rng(20261121);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
const WEIRD = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  -0.5,
  NaN,
  '',
  ' ',
  'x'.repeat(70_000),
  '\u0000',
  '😀',
  '<script>',
  '__proto__',
  [],
  {},
  [null],
  { __proto__: { admin: true } },
  'openai/gpt-4o-mini:floor',
  'a/b:nitro',
];

function randomValue(depth = 0): unknown {
  const r = random();
  if (depth > 3 || r < 0.4) return pick(WEIRD);
  if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < Math.floor(random() * 5); i++)
    o[pick(['model', 'messages', 'role', 'content', 'stream', 'provider', 'max_tokens', 'order', 'sort', 'x'])] = randomValue(depth + 1);
  return o;
}

/** A valid body with one or two fields broken, removed or replaced. */
function mutated(): unknown {
  const body: Record<string, any> = chatBody(pick(['openai/gpt-4o-mini', 'anthropic/claude-haiku-4.5', 'meta-llama/llama-3.3-70b-instruct']), { stream: random() < 0.3 });
  for (let i = 0; i < 1 + Math.floor(random() * 2); i++) {
    const r = random();
    const field = pick(['model', 'messages', 'stream', 'max_tokens', 'temperature', 'provider', 'models', 'tools', 'response_format', 'n', 'stop', 'switchboard']);
    if (r < 0.3) delete body[field];
    else if (r < 0.7) body[field] = randomValue();
    else if (r < 0.8) body.messages = [{ role: pick(['user', 'system', 'robot', '', 'tool']), content: randomValue() }];
    else if (r < 0.9) body.provider = { [pick(['order', 'only', 'ignore', 'sort', 'max_price', 'allow_fallbacks', 'typo'])]: randomValue() };
    else body.max_tokens = pick([0, -5, 1.5, 10_000_000, 1e12, '10']);
  }
  return body;
}

function rawPayload(): string {
  const r = random();
  if (r < 0.15) return Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))).toString('latin1');
  if (r < 0.3) {
    const text = JSON.stringify(mutated());
    return text.slice(0, Math.floor(random() * text.length)); // truncated JSON
  }
  if (r < 0.45) return JSON.stringify(randomValue());
  return JSON.stringify(mutated());
}

describe('fuzzing POST /v1/chat/completions', () => {
  it('3,000 random and mutated bodies: never a 5xx, always a 200 or an OpenAI-shaped 4xx', async () => {
    const statuses = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const payload = rawPayload();
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { ...auth(), 'content-type': random() < 0.97 ? 'application/json' : pick(['text/plain', 'application/xml']) },
        payload,
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) throw new Error(`${res.statusCode} for payload ${payload.slice(0, 300)}: ${res.body.slice(0, 300)}`);
      if (res.statusCode !== 200) {
        expect(res.statusCode, payload.slice(0, 200)).toBeGreaterThanOrEqual(400);
        const body = res.json() as { error: { message: unknown; type: unknown; code: unknown } };
        expect(typeof body.error.message).toBe('string');
        expect(typeof body.error.type).toBe('string');
      }
    }
    // The mix really exercised both sides.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(200);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(1000);
    const alive = await s.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth(), payload: chatBody('openai/gpt-4o-mini') });
    expect(alive.statusCode).toBe(200);
  });

  it('a body over the limit is a 413', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth(),
      payload: JSON.stringify(chatBody('openai/gpt-4o-mini', { messages: [{ role: 'user', content: 'x'.repeat(70_000) }] })),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});
