// Governance end to end in one process: a management key made with `npm run keys` manages its
// organisation's keys over HTTP (OpenRouter's keys API), policies bind every request before routing (403
// naming the policy, budgets with reset times), every change and every refusal lands in a hash-chained
// audit log that `npm run audit -- verify` checks, and usage is visible per organisation.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, DEV_KEY, eventually, flushTelemetry, startTestService } from '../helpers/service.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-governance-'));
const cli = (script: string, args: string[]) =>
  run(process.execPath, ['--import', 'tsx', join('scripts', script), ...args], { env: { ...process.env, DATA_DIR: dataDir }, cwd: process.cwd() });

let s: Service;
let admin: string;
beforeAll(async () => {
  s = await startTestService({ DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '100000' });
  const made = await cli('keys.ts', ['create', '--name', 'admin', '--org', 'acme', '--account', 'acct_acme', '--management']);
  admin = made.stdout.trim();
  // The key file is taken into the store within a second.
  await eventually(
    async () => (await fetch(`${s.url}/api/v1/keys`, { headers: auth(admin) })).status,
    (status) => status === 200,
  );
});
afterAll(async () => s?.close());

interface KeyView {
  hash: string;
  id: string;
  name: string;
  limit: number | null;
  limit_reset: string | null;
  disabled: boolean;
  management: boolean;
  policy: unknown;
}

const call = (method: string, path: string, key: string, body?: unknown) =>
  fetch(`${s.url}${path}`, { method, headers: auth(key), body: body === undefined ? undefined : JSON.stringify(body) });
const chat = (key: string, model = 'openai/gpt-4o-mini', extra: Record<string, unknown> = {}) => call('POST', '/api/v1/chat/completions', key, chatBody(model, extra));
async function createKey(body: Record<string, unknown>): Promise<{ data: KeyView; key: string }> {
  const res = await call('POST', '/api/v1/keys', admin, body);
  expect(res.status).toBe(201);
  return (await res.json()) as { data: KeyView; key: string };
}
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; type: string } }).error;

describe('management keys', () => {
  it('create a key that works at once, list, read, update and revoke it; revocation stops it at once', async () => {
    const { data, key } = await createKey({ name: 'ci', limit: 5, rate_limit_per_minute: 1000, account_id: 'acct_acme' });
    expect(key).toMatch(/^sk-sb-v1-/);
    expect(data).toMatchObject({ name: 'ci', label: 'ci', limit: 5, limit_reset: null, disabled: false, usage: 0 });
    expect(data.hash).toMatch(/^[0-9a-f]{64}$/);
    // The answer came after the change was handed to the routers: the very next request is served.
    expect((await chat(key)).status).toBe(200);

    const list = (await (await call('GET', '/api/v1/keys', admin)).json()) as { data: KeyView[] };
    expect(list.data.map((k) => k.name)).toEqual(expect.arrayContaining(['admin', 'ci']));
    expect(JSON.stringify(list)).not.toContain(key);
    expect((await (await call('GET', `/api/v1/keys/${data.hash}`, admin)).json()) as { data: KeyView }).toMatchObject({ data: { name: 'ci' } });

    const renamed = await call('PATCH', `/api/v1/keys/${data.hash}`, admin, { name: 'ci-2', disabled: true });
    expect(renamed.status).toBe(200);
    const disabled = await chat(key);
    expect(disabled.status).toBe(401);
    expect((await errorOf(disabled)).message).toMatch(/disabled/);
    expect((await call('GET', '/api/v1/keys', admin).then((r) => r.json())) as { data: KeyView[] }).not.toMatchObject({
      data: expect.arrayContaining([expect.objectContaining({ name: 'ci-2' })]),
    });
    expect((await call('PATCH', `/api/v1/keys/${data.hash}`, admin, { disabled: false })).status).toBe(200);
    expect((await chat(key)).status).toBe(200);

    const deleted = await call('DELETE', `/api/v1/keys/${data.hash}`, admin);
    expect(await deleted.json()).toEqual({ deleted: true });
    expect((await chat(key)).status).toBe(401);
    expect((await call('GET', `/api/v1/keys/${data.hash}`, admin)).status).toBe(404);
  });

  it('an expiry in the past is refused; a key past its expiry stops working', async () => {
    expect((await call('POST', '/api/v1/keys', admin, { name: 'old', expires_at: '2020-01-01T00:00:00Z' })).status).toBe(400);
    const soon = new Date(Date.now() + 1500).toISOString();
    const { key } = await createKey({ name: 'brief', expires_at: soon });
    expect((await chat(key)).status).toBe(200);
    const expired = await eventually(
      () => chat(key),
      (r) => r.status === 401,
    );
    expect((await errorOf(expired)).message).toMatch(/expired/);
  });

  it('a normal key cannot call the management API, and a management key cannot call models', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/v1/keys', undefined],
      ['POST', '/api/v1/keys', { name: 'sneaky' }],
      ['GET', '/api/v1/organization/policy', undefined],
      ['PUT', '/api/v1/organization/policy', { policy: null }],
      ['GET', '/api/v1/audit', undefined],
      ['GET', '/api/v1/audit/verify', undefined],
    ] as const) {
      const res = await call(method, path, DEV_KEY, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await errorOf(res)).toMatchObject({ type: 'permission_error' });
    }
    expect((await fetch(`${s.url}/api/v1/keys`)).status).toBe(401);
    const res = await chat(admin);
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('management_key');
    // After the first from the command line, management keys come from the API too.
    const deputy = await createKey({ name: 'deputy', management: true });
    expect(deputy.data.management).toBe(true);
    expect((await call('GET', '/api/v1/keys', deputy.key)).status).toBe(200);
    expect((await chat(deputy.key)).status).toBe(403);
  });

  it('bad input on every management route is a clear 4xx', async () => {
    const bad: [string, string, unknown, number, RegExp][] = [
      ['POST', '/api/v1/keys', {}, 400, /name/],
      ['POST', '/api/v1/keys', { name: 'x', limit: -1 }, 400, /limit/],
      ['POST', '/api/v1/keys', { name: 'x', surprise: true }, 400, /additional/],
      ['POST', '/api/v1/keys', { name: 'x', limit_reset: 'hourly' }, 400, /limit_reset/],
      ['POST', '/api/v1/keys', { name: 'x', expires_at: '2030-01-01T00:00:00+02:00' }, 400, /UTC/],
      ['POST', '/api/v1/keys', { name: 'x', policy: { models: { allow: ['no/such-model'] } } }, 400, /not a model/],
      ['POST', '/api/v1/keys', { name: 'x', policy: { providers: { deny: ['nowhere'] } } }, 400, /not a provider/],
      ['POST', '/api/v1/keys', { name: 'x', account_id: 'acct_dev' }, 400, /not an account of organisation acme/],
      ['GET', '/api/v1/keys/not-a-hash', undefined, 400, /hash/],
      ['PATCH', `/api/v1/keys/${'0'.repeat(64)}`, { name: 'y' }, 404, /no key/],
      ['PATCH', `/api/v1/keys/${'0'.repeat(64)}`, {}, 400, /fewer than 1|minProperties|must NOT have fewer/],
      ['DELETE', `/api/v1/keys/${'0'.repeat(64)}`, undefined, 404, /no key/],
      ['PUT', '/api/v1/organization/policy', { policy: { budgets: { daily: 0 } } }, 400, /daily/],
      ['PUT', '/api/v1/organization/policy', {}, 400, /policy/],
      ['GET', '/api/v1/audit?kind=nope', undefined, 400, /kind/],
      ['GET', '/api/v1/audit?from=yesterday', undefined, 400, /from/],
      ['GET', '/api/v1/audit?limit=5000', undefined, 400, /limit/],
      ['GET', '/api/v1/audit?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', undefined, 400, /before/],
    ];
    for (const [method, path, body, status, message] of bad) {
      const res = await call(method, path, admin, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect((await errorOf(res)).message, `${method} ${path}`).toMatch(message);
    }
  });
});

describe('policies', () => {
  it("a key's policy excludes models; the explanation names it and a request nothing allowed can serve gets 403", async () => {
    const { key } = await createKey({ name: 'mini-only', policy: { models: { allow: ['openai/gpt-4o-mini'] } } });
    const denied = await chat(key, 'anthropic/claude-sonnet-4.5');
    expect(denied.status).toBe(403);
    const err = await errorOf(denied);
    expect(err.code).toBe('policy_denied');
    expect(err.message).toMatch(/policies of key mini-only/);
    expect(err.message).toMatch(/not in models\.allow/);
    // With a fallback it may use, the request is served, and the explanation says why the first was passed over.
    const served = await chat(key, 'anthropic/claude-sonnet-4.5', { models: ['openai/gpt-4o-mini'], switchboard: { explain: true } });
    expect(served.status).toBe(200);
    const body = (await served.json()) as { model: string; routing: { policies: string[]; plans: { model: string; excluded: { reason: string; policy?: string }[] }[] } };
    expect(body.model).toBe('openai/gpt-4o-mini');
    expect(body.routing.policies).toEqual(['key mini-only']);
    const first = body.routing.plans.find((p) => p.model === 'anthropic/claude-sonnet-4.5')!;
    expect(first.excluded.length).toBeGreaterThan(0);
    expect(first.excluded.every((x) => x.policy === 'key mini-only' && /the policy of key mini-only/.test(x.reason))).toBe(true);
  });

  it("the organisation's policy binds every key of it: providers, data terms, prices and the default routing preference", async () => {
    const { key } = await createKey({ name: 'worker' });
    const before = (await (await chat(key, 'meta-llama/llama-3.3-70b-instruct', { switchboard: { explain: true } })).json()) as {
      routing: { plans: { candidates: { provider: string; price_prompt: number }[] }[] };
    };
    const providers = before.routing.plans[0].candidates.map((c) => c.provider);
    expect(providers.length).toBeGreaterThan(2);
    const denied = providers[0];
    const prices = before.routing.plans[0].candidates.map((c) => c.price_prompt).sort((a, b) => a - b);
    const ceiling = prices[Math.floor(prices.length / 2)];
    const put = await call('PUT', '/api/v1/organization/policy', admin, {
      policy: { providers: { deny: [denied] }, max_price: { prompt: ceiling }, default_sort: 'price' },
    });
    expect(put.status).toBe(200);
    const after = (await (await chat(key, 'meta-llama/llama-3.3-70b-instruct', { switchboard: { explain: true } })).json()) as {
      routing: { policies: string[]; plans: { sort: string; candidates: { provider: string; price_prompt: number }[]; excluded: { provider: string; reason: string }[] }[] };
    };
    const plan = after.routing.plans[0];
    expect(after.routing.policies).toEqual(['organization acme']);
    expect(plan.sort).toBe('price');
    expect(plan.candidates.some((c) => c.provider === denied)).toBe(false);
    expect(plan.candidates.every((c) => c.price_prompt <= ceiling)).toBe(true);
    expect(plan.excluded.find((x) => x.provider === denied)?.reason).toMatch(/the policy of organization acme: provider .* is in providers\.deny/);
    expect(plan.excluded.some((x) => /above max_price\.prompt/.test(x.reason))).toBe(true);
    // The request's own preference still wins over the policy's default.
    const own = (await (await chat(key, 'meta-llama/llama-3.3-70b-instruct', { provider: { sort: 'throughput' }, switchboard: { explain: true } })).json()) as {
      routing: { plans: { sort: string }[] };
    };
    expect(own.routing.plans[0].sort).toBe('throughput');
    expect((await call('PUT', '/api/v1/organization/policy', admin, { policy: null })).status).toBe(200);
    expect((await (await call('GET', '/api/v1/organization/policy', admin)).json()) as { data: { policy: unknown } }).toMatchObject({ data: { policy: null } });
  });

  it('budgets per period stop a key with 402 naming the budget and when it resets; a key limit can reset daily', async () => {
    const { key, data } = await createKey({ name: 'frugal', policy: { budgets: { daily: 0.00003 } } });
    let res = await chat(key, 'openai/gpt-4o', { max_tokens: 20 });
    let n = 0;
    while (res.status === 200) {
      expect(++n).toBeLessThan(200);
      res = await chat(key, 'openai/gpt-4o', { max_tokens: 20 });
    }
    expect(res.status).toBe(402);
    const err = (await res.json()) as { error: { code: string; message: string; metadata: { resets_at: string } } };
    expect(err.error.code).toBe('budget_exhausted');
    expect(err.error.message).toMatch(/daily budget of key frugal/);
    const tomorrow = new Date(Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000).toISOString();
    expect(err.error.metadata.resets_at).toBe(tomorrow);

    const daily = await createKey({ name: 'daily-limit', limit: 0.00003, limit_reset: 'daily' });
    expect(daily.data).toMatchObject({ limit_reset: 'daily' });
    let status = 200;
    for (let i = 0; i < 200 && status === 200; i++) status = (await chat(daily.key, 'openai/gpt-4o', { max_tokens: 20 })).status;
    expect(status).toBe(402);

    // The usage API shows the budget with what it has spent.
    await flushTelemetry(s);
    const usage = (await (await call('GET', '/api/v1/usage', key)).json()) as {
      scope: string;
      budgets: { name: string; limit_usd: number; spent_usd: number; resets_at: string }[];
    };
    expect(usage.scope).toBe('account');
    expect(usage.budgets).toEqual([{ name: 'daily budget of key frugal', period: 'daily', limit_usd: 0.00003, spent_usd: expect.any(Number), resets_at: tomorrow }]);
    expect(usage.budgets[0].spent_usd).toBeGreaterThanOrEqual(0.00003);
    expect(data.name).toBe('frugal');
  });

  it("an organisation's budget counts every key of it", async () => {
    const [a, b] = [await createKey({ name: 'team-a' }), await createKey({ name: 'team-b' })];
    for (let i = 0; i < 3; i++) expect((await chat(a.key, 'openai/gpt-4o', { max_tokens: 20 })).status).toBe(200);
    await flushTelemetry(s);
    const spentByA = ((await (await call('GET', `/api/v1/keys/${a.data.hash}`, admin)).json()) as { data: { usage_daily: number } }).data.usage_daily;
    expect(spentByA).toBeGreaterThan(0);
    // Everything the organisation spent today, at least what a spent, is over this budget: b is refused too.
    const orgToday = ((await (await call('GET', '/api/v1/usage', admin)).json()) as { totals: { cost_usd: number; platform_fee_usd: number } }).totals;
    const put = await call('PUT', '/api/v1/organization/policy', admin, { policy: { budgets: { daily: orgToday.cost_usd + orgToday.platform_fee_usd + 1e-7 } } });
    expect(put.status).toBe(200);
    let status = 200;
    for (let i = 0; i < 200 && status === 200; i++) status = (await chat(a.key, 'openai/gpt-4o', { max_tokens: 20 })).status;
    expect(status).toBe(402);
    const refused = await chat(b.key, 'openai/gpt-4o-mini');
    expect(refused.status).toBe(402);
    expect((await errorOf(refused)).message).toMatch(/daily budget of organization acme/);
    const usage = (await (await call('GET', '/api/v1/usage?group_by=key', admin)).json()) as { scope: string; data: { group: string }[]; budgets: { name: string }[] };
    expect(usage.scope).toBe('organization');
    expect(usage.data.map((r) => r.group)).toEqual(expect.arrayContaining([a.data.id]));
    expect(usage.budgets.map((x) => x.name)).toEqual(['daily budget of organization acme']);
    expect((await call('PUT', '/api/v1/organization/policy', admin, { policy: null })).status).toBe(200);
    expect((await chat(b.key, 'openai/gpt-4o-mini')).status).toBe(200);
  });
});

interface AuditEvent {
  seq: number;
  actor: string;
  kind: string;
  target: string;
  before: unknown;
  after: { name?: string; requested_model?: string; policy?: string } | null;
}

describe('audit log', () => {
  it('records each change and each refusal by policy, filters them, and its verification catches a tampered row', async () => {
    const { key, data } = await createKey({ name: 'audited', policy: { models: { deny: ['openai/gpt-4o'] } } });
    expect((await call('PATCH', `/api/v1/keys/${data.hash}`, admin, { limit: 1 })).status).toBe(200);
    const refused = await chat(key, 'openai/gpt-4o');
    expect(refused.status).toBe(403);
    const generation = refused.headers.get('x-switchboard-generation-id');
    expect(generation).toMatch(/^gen-/);
    expect((await call('DELETE', `/api/v1/keys/${data.hash}`, admin)).status).toBe(200);
    await flushTelemetry(s);

    const adminId = ((await (await call('GET', '/api/v1/keys', admin)).json()) as { data: KeyView[] }).data.find((k) => k.name === 'admin')!.id;
    const events = async (query = '') => ((await (await call('GET', `/api/v1/audit${query}`, admin)).json()) as { data: AuditEvent[] }).data;
    const denial = await eventually(
      async () => (await events('?kind=request.denied')).find((e) => e.target === generation),
      (e) => e !== undefined,
    );
    expect(denial).toMatchObject({ actor: data.id, after: { requested_model: 'openai/gpt-4o', policy: 'key audited' } });
    // Refusals by a budget are policy refusals too (the budget tests above ran out the key "frugal").
    const budgetRefusals = (await events('?kind=request.denied&limit=1000')).filter((e) => e.after?.policy === 'daily budget of key frugal');
    expect(budgetRefusals.length).toBeGreaterThan(0);
    const ofKey = (await events()).filter((e) => e.target === data.id);
    expect(ofKey.map((e) => e.kind)).toEqual(['key.revoked', 'key.updated', 'key.created']);
    expect(ofKey.every((e) => e.actor === adminId)).toBe(true);
    const updated = ofKey[1];
    expect(updated.before).toMatchObject({ spend_limit_usd: null });
    expect(updated.after).toMatchObject({ spend_limit_usd: 1 });
    expect(JSON.stringify(await events())).not.toContain(key);
    // The management key made by the command line was recorded as the operator's.
    expect((await events('?actor=cli')).map((e) => e.kind)).toEqual(['key.created']);
    expect((await events('?kind=policy.updated')).length).toBeGreaterThan(0);
    expect(await events(`?to=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).toEqual([]);
    const all = await events('?limit=1000');
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => all.length - i));

    const verify = async () => ((await (await call('GET', '/api/v1/audit/verify', admin)).json()) as { data: { ok: boolean; events: number; problems: string[] } }).data;
    expect(await verify()).toMatchObject({ ok: true, events: all.length, problems: [] });
    // Someone with database access rewrites what an event says.
    await s.clickhouse!.command({
      query: `ALTER TABLE audit_log UPDATE after = '{"spend_limit_usd":1000}' WHERE org_id = 'acme' AND seq = ${updated.seq}`,
      clickhouse_settings: { mutations_sync: '1' },
    });
    const tampered = await verify();
    expect(tampered.ok).toBe(false);
    expect(tampered.problems).toEqual([`acme: event ${updated.seq} (key.updated ${data.id}) was altered: its content no longer matches its hash`]);
  });

  it('npm run audit -- verify finds the tampered event in the stopped service’s database', async () => {
    await s.close();
    const out = await cli('audit.ts', ['verify']).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/TAMPERED acme: event \d+ \(key\.updated key_[0-9a-f]+\) was altered/);
    expect(out.stdout).toMatch(/NOT intact/);
  });
});
