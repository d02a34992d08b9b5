// One tenant acting in bad faith, or the router's own limits, must never cost another tenant anything:
// hostile bodies stay the sender's fault, spend limits hold under a concurrent burst and across a restart,
// and app names arrive as sent.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../store/clickhouse.ts';
import { costOf } from '../../router/events.ts';
import { KeyFile } from '../../governance/key-file.ts';
import { promptTokens } from '../../core/tokens.ts';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, DEV_KEY, flushTelemetry, startTestService, keysTaken } from '../helpers/service.ts';

const MODEL = 'mistralai/mistral-nemo';
let s: Service;
let keys: KeyFile;
const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-hostile-'));
const env = { DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '1000000' };

beforeAll(async () => {
  s = await startTestService(env);
  keys = new KeyFile(join(dataDir, 'keys.json'));
});
afterAll(async () => s?.close());

const post = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(key), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** A small body with one unknown field nested `depth` levels deep (written as text: JSON.stringify would overflow). */
const nestedBody = (depth: number) => JSON.stringify(chatBody(MODEL)).replace(/}$/, `,"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`);

const waitForKeys = (...secrets: string[]) => keysTaken(s, secrets);

async function successRate(key: string, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const res = await post(key, chatBody(MODEL));
    await res.arrayBuffer();
    if (res.status === 200) ok++;
  }
  return ok / n;
}

describe('a tenant sending hostile bodies', () => {
  it('gets a 400 naming the field, and another account on the same model is not affected', async () => {
    const { secret: hostile } = keys.create({ name: 'hostile' });
    const { secret: bystander } = keys.create({ name: 'bystander' });
    await waitForKeys(hostile, bystander);
    expect(await successRate(bystander, 20)).toBe(1);

    for (let i = 0; i < 30; i++) {
      const res = await post(hostile, nestedBody(20_000));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string; provider?: string; param?: string } };
      expect(body.error.code).toBe('invalid_body_shape');
      expect(body.error.message).toMatch(/^body\.extra(\.0)* nests deeper than 64 levels$/);
      expect(body.error.provider).toBeUndefined();
    }
    // Wide objects are bounded too.
    const wide = { ...chatBody(MODEL), extra: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) };
    const res = await post(hostile, wide);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('body.extra has 20000 keys; at most 10000 are accepted');

    // Nothing of it reached a provider's record: every endpoint of the model is closed and without failures.
    for (const e of s.catalog.model(MODEL)!.endpoints) {
      expect(s.health.get(e).breaker.state()).toBe('closed');
      expect(s.health.get(e).stats.snapshot().uptime_5m ?? 1).toBe(1);
    }
    expect(await successRate(bystander, 20)).toBe(1);
    await flushTelemetry(s);
    const [row] = await queryRows<{ failures: string }>(s.clickhouse!, `SELECT countIf(error_class != 'none') AS failures FROM attempts WHERE model = {m:String}`, { m: MODEL });
    expect(Number(row.failures)).toBe(0);
  });
});

describe('spend limits', () => {
  const LIMIT = 0.0005;
  const MAX_TOKENS = 64;
  const body = chatBody('openai/gpt-4o-mini', { max_tokens: MAX_TOKENS });
  // The most one admitted request can cost: its prompt and max_tokens on the dearest endpoint, with the fee.
  const worstCase = () =>
    Math.max(...s.catalog.model('openai/gpt-4o-mini')!.endpoints.map((e) => costOf(e, promptTokens(body.messages), MAX_TOKENS))) * (1 + s.config.platformFeeRate);
  const spentOf = async (keyId: string) => {
    await flushTelemetry(s);
    const [r] = await queryRows<{ usd: number }>(s.clickhouse!, 'SELECT sum(cost_usd + fee_usd) AS usd FROM requests WHERE key_id = {k:String}', { k: keyId });
    return Number(r.usd);
  };

  it('200 concurrent requests on a $0.0005 key overshoot it by at most one request', async () => {
    const { secret, record } = keys.create({ name: 'burst', spendLimitUsd: LIMIT });
    await waitForKeys(secret);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await post(secret, body);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    const ok = statuses.filter((x) => x === 200).length;
    expect(statuses.every((x) => x === 200 || x === 402)).toBe(true);
    expect(ok).toBeGreaterThan(0);
    expect(statuses.filter((x) => x === 402).length).toBeGreaterThan(0);
    const spent = await spentOf(record.id);
    expect(spent).toBeLessThanOrEqual(LIMIT + worstCase() + 1e-9);
    const refused = await post(secret, body);
    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({ error: { type: 'insufficient_quota', code: 'spend_limit_reached' } });
  });

  it('a failed request holds nothing: its reservation is released', async () => {
    const { secret, record } = keys.create({ name: 'failing', spendLimitUsd: LIMIT });
    await waitForKeys(secret);
    // A model whose every endpoint fails: each request reserves, fails, and must give the hold back.
    const failing = 'meta-llama/llama-3.1-8b-instruct';
    for (const e of s.catalog.model(failing)!.endpoints) s.simulator!.faults.set({ provider: e.provider, model: failing, mode: 'error', status: 500 });
    try {
      for (let i = 0; i < 5; i++) expect((await post(secret, chatBody(failing, { max_tokens: 2000 }))).status).toBe(502);
    } finally {
      s.simulator!.faults.clear();
    }
    expect(s.spend.own(record.id)).toEqual({ settled: 0, reserved: 0 });
    expect((await post(secret, body)).status).toBe(200);
  });

  it('spend survives a restart of the service', async () => {
    const { secret, record } = keys.create({ name: 'restarted', spendLimitUsd: 0.00005 });
    await waitForKeys(secret);
    let status = 200;
    for (let n = 0; status === 200 && n < 100; n++) status = (await post(secret, body)).status;
    expect(status).toBe(402);
    const before = await spentOf(record.id);
    await s.close();
    s = await startTestService(env);
    const res = await post(secret, body);
    expect(res.status).toBe(402);
    expect(await spentOf(record.id)).toBeCloseTo(before, 9);
  });
});

describe('app names', () => {
  it('a non-ASCII X-Title is kept as UTF-8', async () => {
    const name = 'Приложение 测试 ✓';
    // fetch refuses non-Latin-1 header strings: send the UTF-8 bytes as a client on the wire would.
    const res = await post(DEV_KEY, chatBody(MODEL), { 'x-title': Buffer.from(name, 'utf8').toString('latin1') });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-switchboard-generation-id')!;
    await flushTelemetry(s);
    const [row] = await queryRows<{ app: string }>(s.clickhouse!, 'SELECT app FROM requests WHERE generation_id = {id:String}', { id });
    expect(row.app).toBe(name);
  });
});
