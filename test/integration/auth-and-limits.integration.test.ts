// Keys (hashes only, CLI-created keys picked up live), per-key rate and spend limits, and owner-only records.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFile } from '../../governance/key-file.ts';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, DEV_KEY, flushTelemetry, startTestService, keysTaken } from '../helpers/service.ts';

let s: Service;
let keys: KeyFile;
beforeAll(async () => {
  s = await startTestService();
  keys = new KeyFile(join(s.config.dataDir, 'keys.json')); // what `npm run keys` writes to
});
afterAll(async () => s?.close());

const post = (key: string | undefined, body: unknown = chatBody('openai/gpt-4o-mini')) =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: key === undefined ? { 'content-type': 'application/json' } : auth(key), body: JSON.stringify(body) });

describe('authentication', () => {
  it('401 with an OpenAI error body for a missing, malformed, unknown or revoked key', async () => {
    for (const res of [await post(undefined), await post('not-a-real-key-at-all')]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key' } });
    }
    const malformed = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Basic abc', 'content-type': 'application/json' }, body: '{}' });
    expect(malformed.status).toBe(401);
    const { secret } = keys.create({ name: 'short-lived' });
    await keysTaken(s, [secret]);
    expect((await post(secret)).status).toBe(200);
    keys.revoke('short-lived');
    await keysTaken(s, [secret], true);
    expect((await post(secret)).status).toBe(401);
  });
});

describe('limits', () => {
  it('429 with Retry-After and X-RateLimit-* headers past the per-key rate', async () => {
    const { secret } = keys.create({ name: 'slow', rateLimitPerMinute: 3 });
    await keysTaken(s, [secret]);
    const first = await post(secret);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    await post(secret);
    await post(secret);
    const limited = await post(secret);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await limited.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
  });

  it('402 once a key has spent its limit', async () => {
    const { secret } = keys.create({ name: 'thrifty', spendLimitUsd: 0.00002 });
    await keysTaken(s, [secret]);
    let status = 200;
    let n = 0;
    while (status === 200 && n < 50) {
      const res = await post(secret, chatBody('openai/gpt-4o', { max_tokens: 20 }));
      status = res.status;
      n++;
      if (status === 402) expect(await res.json()).toMatchObject({ error: { type: 'insufficient_quota', code: 'spend_limit_reached' } });
      else await res.arrayBuffer();
    }
    expect(status).toBe(402);
    expect(n).toBeGreaterThan(1);
  });
});

describe('generation records', () => {
  it('are visible to their owner only; another account gets the same 404 as for a missing id', async () => {
    const res = await post(DEV_KEY);
    const id = res.headers.get('x-switchboard-generation-id')!;
    await flushTelemetry(s);
    const owner = await fetch(`${s.url}/api/v1/generation?id=${id}`, { headers: auth() });
    expect(owner.status).toBe(200);
    const { secret } = keys.create({ name: 'stranger' });
    await keysTaken(s, [secret]);
    const stranger = await fetch(`${s.url}/api/v1/generation?id=${id}`, { headers: auth(secret) });
    const missing = await fetch(`${s.url}/api/v1/generation?id=gen-doesnotexist`, { headers: auth(secret) });
    expect(stranger.status).toBe(404);
    expect(missing.status).toBe(404);
    const codeOf = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;
    expect(await codeOf(stranger)).toBe(await codeOf(missing));
    expect((await fetch(`${s.url}/api/v1/generation?id=${id}`)).status).toBe(401);
  });

  it('reject ids that are not generation ids, including injection attempts, with 400', async () => {
    for (const bad of ["gen-x' OR 1=1 --", '', 'abc', `gen-${'a'.repeat(200)}`]) {
      const res = await fetch(`${s.url}/api/v1/generation?id=${encodeURIComponent(bad)}`, { headers: auth() });
      expect(res.status).toBe(400);
    }
  });
});
