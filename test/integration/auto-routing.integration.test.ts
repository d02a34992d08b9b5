// switchboard/auto end to end: analytics publishes each category's revealed-preference scores, the router
// chooses from them per request, telemetry records the choice under requested_model switchboard/auto, and
// that traffic never moves the scores it was chosen from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatePopulation } from '../../dev/population/simulate.ts';
import { insertEvents } from '../../store/rows.ts';
import { insertRequests } from '../fixtures/events.ts';
import { queryRows } from '../../store/clickhouse.ts';
import type { Service } from '../../service/server.ts';
import { auth, eventually, flushTelemetry, startTestService } from '../helpers/service.ts';
import { POPULATION_MODELS } from '../fixtures/population.ts';
import { hashKey } from '../../router/auth/key-store.ts';
import { KeyFile } from '../../governance/key-file.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let s: Service;
const AGENT_KEY = 'sk-sb-agent-key-0123456789abcdef0123';
/** Answers before any traffic was recorded: auto, and a named model. */
let early: { auto: { status: number; message: string }; named: number };
/** When the population was all in: tables computed after it hold all of it. */
let loadedAt = 0;

beforeAll(async () => {
  // A key whose settings map the step "summarise" to translation, from the config file.
  const config = join(mkdtempSync(join(tmpdir(), 'auto-config-')), 'switchboard.json');
  writeFileSync(config, JSON.stringify({ keys: [{ name: 'agent', sha256: hashKey(AGENT_KEY), account: 'acct_agent', autoSteps: { summarise: 'translation' } }] }));
  // Public figures refreshed every second: the tests read them after the calls they make.
  s = await startTestService({ PREFERENCE_REFRESH_S: '2', PUBLIC_REFRESH_S: '1', RATE_LIMIT_PER_MINUTE: '100000', AUTO_EXPLORE_SHARE: '0', SWITCHBOARD_CONFIG: config });
  const first = await ask({ model: 'switchboard/auto' });
  early = { auto: { status: first.status, message: ((await first.json()) as any).error?.message }, named: (await ask({ model: 'openai/gpt-4o-mini' })).status };
  const pop = simulatePopulation({ catalog: s.catalog, models: POPULATION_MODELS, seed: 5, accounts: 800, days: 42, endMs: Date.now() - 3_600_000 });
  await insertEvents(s.clickhouse!, pop.events, 100_000);
  loadedAt = Date.now();
}, 300_000);
afterAll(async () => s?.close());

const ask = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...auth(), ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Write a function that reverses a list' }], max_tokens: 16, ...body }),
  });
const get = async (path: string) => (await (await fetch(`${s.url}${path}`)).json()) as any;

describe('switchboard/auto', () => {
  it('before any scores: 503 saying why, while a named model works', () => {
    expect(early.auto.status).toBe(503);
    expect(early.auto.message).toMatch(/no revealed-preference scores yet/);
    expect(early.named).toBe(200);
  });

  it('chooses from the published scores of the request category, explains itself, and records the choice', async () => {
    // The table of all traffic is published first, the categories' one by one: wait for programming's,
    // computed once the whole population was in.
    const { res, body } = await eventually(
      async () => {
        const r = await ask({ model: 'switchboard/auto:programming', switchboard: { explain: true } });
        return { res: r, body: (await r.json()) as any };
      },
      ({ res: r, body: b }) => r.status === 200 && b.routing.auto.scores.from === 'category' && Date.parse(b.routing.auto.scores.computed_at) > loadedAt,
      60_000,
    );
    const auto = body.routing.auto;
    expect(auto).toMatchObject({ category: 'programming', optimize: 'balanced', explored: false, scores: { from: 'category', period: 'month' } });
    expect(body.model).toBe(auto.chosen.model);
    expect(res.headers.get('x-switchboard-auto')).toBe(auto.chosen.model);
    // The scores it chose from are the public revealed preference of the category (same weeks, same method).
    const pref = await get('/api/v1/rankings/preference?period=month&category=programming');
    const published = new Map(pref.pairwise.scores.map((x: any) => [x.model, x]));
    for (const c of [auto.chosen, ...auto.passed_over.filter((p: any) => p.score !== undefined)]) {
      expect(c.score).toBeCloseTo((published.get(c.model) as any).score, 9);
    }
    // Balanced: nothing cheaper is within the best's interval.
    const best = [auto.chosen, ...auto.passed_over].filter((c: any) => c.score !== undefined).sort((a: any, b: any) => b.score - a.score)[0];
    for (const p of auto.passed_over)
      if (p.high >= best.low && p.expected_cost_usd !== undefined) expect(p.expected_cost_usd).toBeGreaterThanOrEqual(auto.chosen.expected_cost_usd);
    await flushTelemetry(s);
    const [row] = await queryRows<{ requested_model: string; served_model: string; category: string; auto_choice: string }>(
      s.clickhouse!,
      'SELECT requested_model, served_model, category, auto_choice FROM requests WHERE generation_id = {id:String}',
      { id: body.id },
    );
    expect(row).toEqual({ requested_model: 'switchboard/auto:programming', served_model: auto.chosen.model, category: 'programming', auto_choice: auto.chosen.model });
  });

  it('keeps to max_price and the other constraints, with a clear error when nothing fits', async () => {
    const r = await ask(
      { model: 'switchboard/auto', provider: { max_price: { completion: 1 } }, switchboard: { explain: true, auto: { optimize: 'preference' } } },
      { 'x-switchboard-category': 'roleplay' },
    );
    expect(r.status).toBe(200);
    const body = (await r.json()) as any;
    expect(body.routing.auto.category).toBe('roleplay');
    const served = s.catalog.model(body.model)!.endpoints.find((e) => e.provider === r.headers.get('x-switchboard-provider'))!;
    expect(served.priceCompletion).toBeLessThanOrEqual(1);
    const none = await ask({ model: 'switchboard/auto', provider: { max_price: { completion: 0.01 } } });
    expect(none.status).toBe(404);
    expect(((await none.json()) as any).error.message).toMatch(/no scored model can serve this request/);
    for (const bad of [
      { model: 'switchboard/auto:cooking' },
      { model: 'openai/gpt-4o-mini', switchboard: { auto: { optimize: 'price' } } },
      { model: 'switchboard/auto', switchboard: { auto: { optimize: 'cheapest' } } },
      { model: 'switchboard/auto', switchboard: { auto: { min_score: 'top' } } },
      { model: 'openai/gpt-4o-mini', models: ['switchboard/auto'] },
    ]) {
      const res = await ask(bad);
      expect([JSON.stringify(bad), res.status]).toEqual([JSON.stringify(bad), 400]);
    }
  });

  it('its own traffic does not move the scores it reads: auto requests are left out of revealed preference', async () => {
    const before = await queryRows<{ n: string; t: string }>(s.clickhouse!, 'SELECT count() AS n, sum(tokens) AS t FROM account_week_model');
    for (let i = 0; i < 20; i++) expect((await ask({ model: 'switchboard/auto:programming' })).status).toBe(200);
    await flushTelemetry(s);
    const [{ n }] = await queryRows<{ n: string }>(s.clickhouse!, "SELECT count() AS n FROM requests WHERE requested_model = 'switchboard/auto:programming'");
    expect(Number(n)).toBeGreaterThanOrEqual(21);
    expect(await queryRows(s.clickhouse!, 'SELECT count() AS n, sum(tokens) AS t FROM account_week_model')).toEqual(before);
  });
});

describe('auto routing shown on the public pages', () => {
  it("rankings list where auto sent each category's requests, and a model's stats what auto sent it; both equal raw recounts", async () => {
    const view = await get('/api/v1/rankings?period=day&category=programming&limit=100');
    const [from, last] = [view.from.slice(0, 10), new Date(Date.parse(view.to) - 1000).toISOString().slice(0, 10)];
    const raw = await queryRows<{ model: string; n: string; t: string }>(
      s.clickhouse!,
      `SELECT served_model AS model, count() AS n, sum(tokens_prompt + tokens_completion) AS t FROM requests
        WHERE startsWith(requested_model, 'switchboard/auto') AND served_model != '' AND category = 'programming'
          AND toDate(ts) >= {from:String} AND toDate(ts) <= {last:String} GROUP BY model ORDER BY n DESC, model`,
      { from, last },
    );
    expect(raw.length).toBeGreaterThan(0);
    const total = raw.reduce((n, r) => n + Number(r.n), 0);
    expect(view.auto).toEqual(raw.map((r) => ({ model: r.model, requests: Number(r.n), tokens: Number(r.t), share: Number(r.n) / total })));
    const [top] = raw;
    const stats = await get(`/api/v1/models/${top.model}/stats`);
    const [mine] = await queryRows<{ n: string }>(
      s.clickhouse!,
      "SELECT count() AS n FROM requests WHERE startsWith(requested_model, 'switchboard/auto') AND served_model = {m:String} AND category = 'programming'",
      { m: top.model },
    );
    expect(stats.auto.find((a: any) => a.category === 'programming').requests).toBe(Number(mine.n));
    // Chosen but served by another after a failover: recorded as such, and shown on the chosen model's page.
    await insertRequests(
      s.clickhouse!,
      [0, 1, 2].map((i) => ({
        generation_id: `gen-away-${i}`,
        ts: Date.now() - 60_000,
        account_id: 'acct_dev',
        category: 'general',
        requested_model: 'switchboard/auto',
        auto_choice: 'z-ai/glm-4.6',
        served_model: i < 2 ? 'qwen/qwen3-235b-a22b' : 'x-ai/grok-4-fast',
      })),
    );
    const glm = await eventually(
      () => get('/api/v1/models/z-ai/glm-4.6/stats'),
      (b) => b.auto_away.length === 2,
    );
    expect(glm.auto_away).toEqual([
      { to: 'qwen/qwen3-235b-a22b', requests: 2 },
      { to: 'x-ai/grok-4-fast', requests: 1 },
    ]);
  });
});

describe('agent sessions', () => {
  const call = (session: Record<string, string>, body: Record<string, unknown> = {}) =>
    ask({ model: 'openai/gpt-4o-mini', ...body }, session).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  it('record session and step; the owner lists its sessions and reads one per step and call; steps can map to auto categories', async () => {
    const run = `run-${Date.now()}`;
    const a = await call(
      { 'x-switchboard-session': run, 'x-switchboard-step': 'extract' },
      { model: 'switchboard/auto', switchboard: { explain: true, steps: { extract: 'translation' } } },
    );
    expect(a.status).toBe(200);
    expect(a.body.routing.auto.category).toBe('translation'); // the step's category, not the classifier's
    const b = await call({ 'x-switchboard-session': run, 'x-switchboard-step': 'extract' });
    const c = await call({ 'x-switchboard-session': run, 'x-switchboard-step': 'reason' }, { model: 'deepseek/deepseek-chat' });
    const d = await call({}, { session_id: `${run}-body` });
    for (const x of [b, c, d]) expect(x.status).toBe(200);
    await flushTelemetry(s);

    const list = await (await fetch(`${s.url}/api/v1/sessions`, { headers: auth() })).json();
    const mine = list.data.find((x: any) => x.session_id === run);
    expect(mine).toMatchObject({ calls: 3, failed: 0, steps: ['extract', 'reason'] });
    expect(list.data.find((x: any) => x.session_id === `${run}-body`)).toMatchObject({ calls: 1, steps: [] });
    const raw = await queryRows<{ n: string; t: string; nusd: string }>(
      s.clickhouse!,
      'SELECT count() AS n, sum(tokens_prompt + tokens_completion) AS t, sum(toUInt64(round(cost_usd * 1e9)) + toUInt64(round(fee_usd * 1e9))) AS nusd FROM requests WHERE session_id = {id:String}',
      { id: run },
    );
    expect([mine.tokens, mine.cost_usd]).toEqual([Number(raw[0].t), Number(raw[0].nusd) / 1e9]);

    const one = (await (await fetch(`${s.url}/api/v1/sessions/${run}`, { headers: auth() })).json()).data;
    expect(one.calls.map((x: any) => x.generation_id)).toEqual([a.body.id, b.body.id, c.body.id]);
    expect(one.per_step.map((x: any) => [x.step, x.calls])).toEqual([
      ['extract', 2],
      ['reason', 1],
    ]);
    expect(one.per_step.find((x: any) => x.step === 'reason').models).toEqual([expect.objectContaining({ model: 'deepseek/deepseek-chat', calls: 1 })]);
    expect(one.calls.every((x: any) => x.status === 200)).toBe(true);
    // The OpenRouter base answers the same.
    expect((await (await fetch(`${s.url}/v1/sessions/${run}`, { headers: auth() })).json()).data).toEqual(one);
  });

  it("a key's settings map a step to the category auto routes it as (the request's own mapping comes first)", async () => {
    const run = `agent-${Date.now()}`;
    const step = (extra: Record<string, unknown>) =>
      fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth(AGENT_KEY), 'x-switchboard-session': run, 'x-switchboard-step': 'summarise' },
        body: JSON.stringify({ model: 'switchboard/auto', messages: [{ role: 'user', content: 'Write a function' }], max_tokens: 8, switchboard: { explain: true, ...extra } }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const byKey = await step({});
    expect(byKey.status).toBe(200);
    expect(byKey.body.routing.auto.category).toBe('translation');
    const byRequest = await step({ steps: { summarise: 'general' } });
    expect(byRequest.body.routing.auto.category).toBe('general');
  });

  it('rankings give each model its share of tokens in multi-call sessions, equal to a recount over raw rows', async () => {
    // Computed after the sessions above were recorded.
    const body = await eventually(
      () => get('/api/v1/rankings?period=day&limit=100'),
      (b) => (b.models.find((m: any) => m.model === 'openai/gpt-4o-mini')?.multi_call_share ?? 0) > 0,
    );
    const model = body.models.find((m: any) => m.model === 'openai/gpt-4o-mini');
    const [from, last] = [body.from.slice(0, 10), new Date(Date.parse(body.to) - 1000).toISOString().slice(0, 10)];
    const [r] = await queryRows<{ all: string; multi: string }>(
      s.clickhouse!,
      `SELECT sum(t) AS all, sumIf(t, session_id != '' AND calls >= 2) AS multi FROM (
         SELECT session_id, account_id, sumIf(tokens_prompt + tokens_completion, served_model = 'openai/gpt-4o-mini') AS t, count() AS calls
           FROM requests WHERE served_model != '' AND toDate(ts) >= {from:String} AND toDate(ts) <= {last:String}
          GROUP BY account_id, session_id)`,
      { from, last },
    );
    expect(Number(r.multi)).toBeGreaterThan(0);
    expect(model.multi_call_share).toBe(Number(r.multi) / Number(r.all));
  });

  it('rejects bad session input with clear 4xx answers and keeps sessions to their owner', async () => {
    expect((await call({ 'x-switchboard-step': 'plan' })).status).toBe(400); // a step needs a session
    expect((await call({ 'x-switchboard-session': 'x'.repeat(129) })).status).toBe(400);
    expect((await call({ 'x-switchboard-session': 's1', 'x-switchboard-step': 'plan' }, { model: 'switchboard/auto', switchboard: { steps: { plan: 'cooking' } } })).status).toBe(
      400,
    );
    expect((await fetch(`${s.url}/api/v1/sessions/nope-${Date.now()}`, { headers: auth() })).status).toBe(404);
    expect((await fetch(`${s.url}/api/v1/sessions?days=0`, { headers: auth() })).status).toBe(400);
    expect((await fetch(`${s.url}/api/v1/sessions`)).status).toBe(401);
    const other = new KeyFile(join(s.config.dataDir, 'keys.json')).create({ name: 'other', accountId: 'acct_other_sessions' });
    const theirs = await eventually(
      () => fetch(`${s.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${other.secret}` } }),
      (r) => r.status === 200,
    );
    expect((await theirs.json()).data).toEqual([]);
  });
});

describe('recommendations for a workload', () => {
  it("per category of the caller's own traffic: its models with their scores, and cheaper models peers prefer at least as much, priced at the same volume", async () => {
    // A week of this account's programming traffic, all on the dearest model.
    const SONNET = 'anthropic/claude-sonnet-4.5';
    const sonnet = s.catalog.model(SONNET)!.endpoints[0];
    await insertRequests(
      s.clickhouse!,
      Array.from({ length: 50 }, (_, i) => ({
        generation_id: `gen-reco-${i}`,
        account_id: 'acct_dev',
        category: 'programming',
        ts: Date.now() - (i + 1) * 3_600_000,
        requested_model: SONNET,
        served_model: SONNET,
        provider: sonnet.provider,
        endpoint_id: sonnet.id,
        tokens_prompt: 2000,
        tokens_completion: 500,
        cost_usd: (2000 * sonnet.pricePrompt + 500 * sonnet.priceCompletion) / 1e6,
      })),
    );
    const inserted = Date.now();
    // The peers' scores are the tables published for auto routing: wait for one computed with these rows in.
    const body = await eventually(
      async () => (await fetch(`${s.url}/api/v1/recommendations?days=30`, { headers: auth() })).json(),
      (b: any) => Date.parse(b.categories.find((c: any) => c.category === 'programming')?.scores_computed_at ?? '') > inserted,
    );
    const programming = body.categories.find((c: any) => c.category === 'programming');
    const [raw] = await queryRows<{ tp: string; tc: string; nusd: string }>(
      s.clickhouse!,
      "SELECT sum(tokens_prompt) AS tp, sum(tokens_completion) AS tc, sum(toUInt64(round(cost_usd * 1e9))) AS nusd FROM requests WHERE account_id = 'acct_dev' AND category = 'programming' AND served_model = {m:String} AND ts >= now() - INTERVAL 30 DAY",
      { m: SONNET },
    );
    expect(programming.models[0]).toMatchObject({ model: SONNET, cost_usd: Number(raw.nusd) / 1e9 });
    expect(programming.models[0].score).not.toBeNull();
    const pref = await get('/api/v1/rankings/preference?period=month&category=programming');
    const score = new Map(pref.pairwise.scores.map((x: any) => [x.model, x]));
    const mine = score.get(SONNET) as any;
    expect(programming.suggestions.length).toBeGreaterThan(0);
    for (const sug of programming.suggestions) {
      const alt = score.get(sug.model) as any;
      const m = s.catalog.model(sug.model)!;
      const expected = (Number(raw.tp) * Math.min(...m.endpoints.map((e) => e.pricePrompt)) + Number(raw.tc) * Math.min(...m.endpoints.map((e) => e.priceCompletion))) / 1e6;
      expect(sug.instead_of).toBe(SONNET);
      expect(sug.expected_cost_usd).toBeCloseTo(expected, 9);
      expect(sug.saving).toBeCloseTo(1 - sug.expected_cost_usd / sug.current_cost_usd, 12);
      expect(sug.expected_cost_usd).toBeLessThan(sug.current_cost_usd);
      expect(sug.preference_difference.value).toBeCloseTo(alt.score - mine.score, 9);
      expect(sug.preference_difference.high).toBeCloseTo(alt.high - mine.low, 9);
      expect(sug.preference_difference.high).toBeGreaterThanOrEqual(0); // not credibly less preferred
      expect(sug.text).toMatch(new RegExp(`^programming: \\d+% of your tokens go to ${SONNET}; ${sug.model} is preferred`));
    }
    expect((await fetch(`${s.url}/api/v1/recommendations?days=0`, { headers: auth() })).status).toBe(400);
    expect((await fetch(`${s.url}/api/v1/recommendations`)).status).toBe(401);
  });
});
