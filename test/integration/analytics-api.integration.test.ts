// Usage and rankings figures, each recomputed here with one independent SQL query over the raw requests
// table: they must match exactly. Accounts never see each other's usage; bad parameters are 400s.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateTime64, queryRows } from '../../store/clickhouse.ts';
import { periodWindow } from '../../analytics/routes/rankings.ts';
import { KeyFile } from '../../governance/key-file.ts';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, flushTelemetry, startTestService, keysTaken } from '../helpers/service.ts';
import { insertRequests } from '../fixtures/events.ts';

let s: Service;
const keys: Record<'a' | 'b', { secret: string; account: string }> = {} as never;

const TRAFFIC: [string, string, number][] = [
  // model, category, count
  ['openai/gpt-4o-mini', 'programming', 14],
  ['anthropic/claude-haiku-4.5', 'programming', 9],
  ['deepseek/deepseek-chat', 'translation', 7],
  ['meta-llama/llama-3.1-8b-instruct', 'roleplay', 5],
  ['x-ai/grok-4', 'general', 4], // its only endpoint fails: recorded as errors
  ['mistralai/mistral-nemo', 'general', 2],
];

// Leaderboards count complete hours only: the figures' clock runs an hour ahead, so the traffic these
// tests send now is in a complete hour.
const clock = () => Date.now() + 3_600_000;

beforeAll(async () => {
  // Figures recomputed on every request (PUBLIC_REFRESH_S=0): these tests add rows between reads. The
  // served-from-memory path is tested in preference.integration.test.ts.
  s = await startTestService({ RATE_LIMIT_PER_MINUTE: '100000', PUBLIC_REFRESH_S: '0' }, undefined, undefined, clock);
  const store = new KeyFile(join(s.config.dataDir, 'keys.json'));
  for (const who of ['a', 'b'] as const) {
    const { secret, record } = store.create({ name: `analytics-${who}`, accountId: `acct_analytics_${who}` });
    keys[who] = { secret, account: record.account_id };
  }
  await keysTaken(s, [keys.a.secret, keys.b.secret]);
  s.simulator!.faults.set({ provider: 'xai', model: 'x-ai/grok-4', mode: 'error', status: 500 });
  const send = (key: string, model: string, category: string, i: number) =>
    fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...auth(key), 'x-switchboard-category': category },
      body: JSON.stringify(chatBody(model, { max_tokens: 5 + i })),
    }).then((r) => r.arrayBuffer());
  const jobs: Promise<unknown>[] = [];
  for (const [model, category, n] of TRAFFIC) for (let i = 0; i < n; i++) jobs.push(send(keys.a.secret, model, category, i));
  for (let i = 0; i < 6; i++) jobs.push(send(keys.b.secret, 'openai/gpt-4o', 'general', i));
  // Apps: one used by five accounts (shown), one by three (below the default threshold of five: hidden).
  const appUsers = Array.from({ length: 5 }, (_, i) => store.create({ name: `app-user-${i}`, accountId: `acct_app_${i}` }).secret);
  await keysTaken(s, appUsers);
  const withApp = (key: string, app: string) =>
    fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(key), 'x-title': app }, body: JSON.stringify(chatBody('google/gemini-2.5-flash')) }).then((r) =>
      r.arrayBuffer(),
    );
  for (const key of appUsers) jobs.push(withApp(key, 'popular-app'), withApp(key, 'popular-app'));
  for (const key of appUsers.slice(0, 3)) jobs.push(withApp(key, 'niche-app'));
  await Promise.all(jobs);
  await flushTelemetry(s);
});
afterAll(async () => s?.close());

const api = async (path: string, key?: string) => {
  const res = await fetch(`${s.url}${path}`, { headers: key ? auth(key) : {} });
  return { status: res.status, body: (await res.json()) as any };
};

const GROUP_EXPR: Record<string, string> = {
  day: 'toString(toDate(ts))',
  model: "if(served_model = '', requested_model, served_model)",
  provider: 'provider',
  key: 'key_id',
};

describe('usage API', () => {
  for (const groupBy of Object.keys(GROUP_EXPR)) {
    it(`group_by=${groupBy} equals one SQL query over raw requests`, async () => {
      const { status, body } = await api(`/api/v1/usage?group_by=${groupBy}`, keys.a.secret);
      expect(status).toBe(200);
      const raw = await queryRows<Record<string, string>>(
        s.clickhouse!,
        `SELECT ${GROUP_EXPR[groupBy]} AS g, count() AS requests, countIf(status != 200) AS errors, sum(tokens_prompt) AS tp, sum(tokens_completion) AS tc,
                sum(toUInt64(round(cost_usd * 1e9))) AS cost, sum(toUInt64(round(fee_usd * 1e9))) AS fee
           FROM requests WHERE account_id = {a:String} GROUP BY g ORDER BY g`,
        { a: keys.a.account },
      );
      expect(body.data).toEqual(
        raw.map((r) => ({
          group: r.g,
          requests: Number(r.requests),
          errors: Number(r.errors),
          tokens_prompt: Number(r.tp),
          tokens_completion: Number(r.tc),
          cost_usd: Number(r.cost) / 1e9,
          platform_fee_usd: Number(r.fee) / 1e9,
        })),
      );
      expect(body.totals.requests).toBe(TRAFFIC.reduce((n, t) => n + t[2], 0));
    });
  }

  it('counts failed requests as errors under the model asked for', async () => {
    const { body } = await api('/api/v1/usage?group_by=model', keys.a.secret);
    expect(body.data.find((g: { group: string }) => g.group === 'x-ai/grok-4')).toMatchObject({ requests: 4, errors: 4, cost_usd: 0 });
  });

  it('an account sees only its own usage', async () => {
    const b = await api('/api/v1/usage?group_by=model', keys.b.secret);
    expect(b.body.data.map((g: { group: string }) => g.group)).toEqual(['openai/gpt-4o']);
    expect(b.body.totals.requests).toBe(6);
    const a = await api('/api/v1/usage?group_by=key', keys.a.secret);
    expect(a.body.data).toHaveLength(1);
    expect((await api('/api/v1/usage')).status).toBe(401);
  });

  it('GET /api/v1/activity: the last 30 days by day, model and endpoint, equal to the raw rows', async () => {
    const { body } = await api('/api/v1/activity', keys.a.secret);
    const raw = await queryRows<Record<string, string>>(
      s.clickhouse!,
      `SELECT toString(toDate(ts)) AS d, if(served_model = '', requested_model, served_model) AS m, provider AS p, count() AS n, sum(tokens_completion) AS tc, sum(toUInt64(round(cost_usd * 1e9))) AS cost
         FROM requests WHERE account_id = {a:String} AND toDate(ts) >= today() - 29 GROUP BY d, m, p ORDER BY d DESC, m, p`,
      { a: keys.a.account },
    );
    expect(body.data.map((r: any) => [r.date, r.model, r.provider, r.requests, r.tokens_completion, r.cost_usd])).toEqual(
      raw.map((r) => [r.d, r.m, r.p, Number(r.n), Number(r.tc), Number(r.cost) / 1e9]),
    );
    expect(body.data.find((r: any) => r.model === 'openai/gpt-4o-mini').endpoint_id).toMatch(/^(openai|azure):openai\/gpt-4o-mini$/);
  });

  it('GET /api/v1/key reports the calling key and what it spent', async () => {
    const { body } = await api('/api/v1/key', keys.b.secret);
    const [raw] = await queryRows<{ spent: string }>(
      s.clickhouse!,
      'SELECT sum(toUInt64(round(cost_usd * 1e9)) + toUInt64(round(fee_usd * 1e9))) AS spent FROM requests WHERE account_id = {a:String}',
      { a: keys.b.account },
    );
    expect(body.data).toMatchObject({ account_id: keys.b.account, label: 'analytics-b', usage: Number(raw.spent) / 1e9, limit: null, limit_remaining: null, is_free_tier: false });
    expect(body.data.rate_limit).toEqual({ requests: expect.any(Number), interval: '1m' });
    // OpenRouter's older path answers the same.
    expect((await api('/api/v1/auth/key', keys.b.secret)).body).toEqual(body);
  });
});

describe('rankings API', () => {
  const rawRanking = (category?: string) => {
    const w = periodWindow('day', clock());
    return queryRows<{ m: string; t: string }>(
      s.clickhouse!,
      `SELECT if(served_model = '', requested_model, served_model) AS m, sum(tokens_prompt + tokens_completion) AS t
         FROM requests WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} ${category ? 'AND category = {c:String}' : ''}
        GROUP BY m HAVING m != '' AND t > 0 ORDER BY t DESC, m`,
      { from: dateTime64(w.from.getTime()), to: dateTime64(w.to.getTime()), c: category ?? '' },
    );
  };

  it('top models by tokens with shares equal one SQL query over raw requests; the rest is "other"', async () => {
    const { status, body } = await api('/api/v1/rankings?period=day&limit=3');
    expect(status).toBe(200);
    const raw = await rawRanking();
    const total = raw.reduce((n, r) => n + Number(r.t), 0);
    expect(body.total_tokens).toBe(total);
    expect(body.models.map((m: any) => [m.rank, m.model, m.tokens, m.share])).toEqual(raw.slice(0, 3).map((r, i) => [i + 1, r.m, Number(r.t), Number(r.t) / total]));
    const rest = raw.slice(3).reduce((n, r) => n + Number(r.t), 0);
    expect(body.other).toEqual({ models: raw.length - 3, tokens: rest, share: rest / total });
    expect(body.models[0]).toMatchObject({ previous_rank: null, rank_change: null, growth: null }); // nothing the day before
    const authors = body.authors.reduce((n: number, a: { tokens: number }) => n + a.tokens, 0);
    expect(authors).toBe(total);
    // A model is ranked by the tokens its answers delivered: one whose every request failed is not ranked.
    const all = (await api('/api/v1/rankings?period=day&limit=50')).body;
    expect(all.models.map((m: { model: string }) => m.model)).not.toContain('x-ai/grok-4');
    expect(all.other.models).toBe(0);
    expect(all.models.every((m: { tokens: number }) => m.tokens > 0)).toBe(true);
  });

  it('the share-over-time series and the apps equal raw recomputation; apps below k users stay hidden', async () => {
    const { body } = await api('/api/v1/rankings?period=day&limit=3');
    expect(body.series.bucket).toBe('hour');
    const listed = body.models.map((m: { model: string }) => m.model);
    const raw = await queryRows<{ t: string; m: string; tokens: string }>(
      s.clickhouse!,
      `SELECT formatDateTime(toStartOfHour(ts), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS t, if(has({listed:Array(String)}, mm), mm, 'other') AS m, sum(tokens_prompt + tokens_completion) AS tokens
         FROM (SELECT *, if(served_model = '', requested_model, served_model) AS mm FROM requests) WHERE mm != '' GROUP BY t, m HAVING tokens > 0 ORDER BY t, m`,
      { listed },
    );
    expect(body.series.points).toEqual(raw.map((r) => ({ t: r.t, model: r.m, tokens: Number(r.tokens) })));
    expect(body.series.points.reduce((n: number, p: { tokens: number }) => n + p.tokens, 0)).toBe(body.total_tokens);
    const apps = await queryRows<{ app: string; u: string; n: string; t: string }>(
      s.clickhouse!,
      "SELECT app, uniqExact(account_id) AS u, count() AS n, sum(tokens_prompt + tokens_completion) AS t FROM requests WHERE app != '' GROUP BY app HAVING u >= 5 ORDER BY t DESC, app",
    );
    expect(body.apps).toEqual(apps.map((a) => ({ app: a.app, users: Number(a.u), requests: Number(a.n), tokens: Number(a.t) })));
    expect(body.apps.map((a: { app: string }) => a.app)).toEqual(['popular-app']);
    expect(body.trending).toEqual([]); // nothing in the previous period to grow from
  });

  it('a category narrows the leaderboard to that category, exactly', async () => {
    const { body } = await api('/api/v1/rankings?period=week&category=programming');
    const raw = await rawRanking('programming');
    expect(body.models.map((m: any) => [m.model, m.tokens])).toEqual(raw.map((r) => [r.m, Number(r.t)]));
    expect(body.models.map((m: any) => m.model).sort()).toEqual(['anthropic/claude-haiku-4.5', 'openai/gpt-4o-mini']);
  });
});

describe('rankings against the previous period', () => {
  it('rank change, growth and trending follow from what the previous period held', async () => {
    const w = periodWindow('day', clock());
    const yesterday = w.from.getTime() - 6 * 3_600_000;
    // Yesterday: claude-haiku led with 5,000 tokens (more than today: it shrinks), gpt-4o-mini had 100 (it grows).
    await insertRequests(
      s.clickhouse!,
      [
        { model: 'anthropic/claude-haiku-4.5', tokens: 5000 },
        { model: 'openai/gpt-4o-mini', tokens: 100 },
      ].map(({ model, tokens }) => ({
        generation_id: `gen-yesterday-${model}`,
        account_id: 'acct_history',
        ts: yesterday,
        served_model: model,
        requested_model: model,
        tokens_prompt: tokens,
        tokens_completion: 0,
      })),
    );

    const { body } = await api('/api/v1/rankings?period=day');
    const mini = body.models.find((m: { model: string }) => m.model === 'openai/gpt-4o-mini');
    const haiku = body.models.find((m: { model: string }) => m.model === 'anthropic/claude-haiku-4.5');
    expect(mini.previous_rank).toBe(2);
    expect(haiku.previous_rank).toBe(1);
    expect(mini.rank_change).toBe(2 - mini.rank);
    expect(mini.growth).toBe((mini.tokens - 100) / 100);
    expect(haiku.growth).toBe((haiku.tokens - 5000) / 5000);
    expect(mini.growth).toBeGreaterThan(0);
    expect(haiku.growth).toBeLessThan(0);
    // Trending lists growing models only, even when fewer than ten grow.
    expect(body.trending.map((t: { model: string }) => t.model)).toEqual(['openai/gpt-4o-mini']);
  });
});

describe('rankings over weeks and months', () => {
  it('whole days (daily aggregates) and the edge hours (hourly aggregates) add up to the raw rows exactly, series and apps included', async () => {
    const m = periodWindow('month', clock());
    const H = 3_600_000;
    // Older than two days, so the day leaderboard and its previous day stay as the other tests left them.
    const at = [m.from.getTime(), m.from.getTime() + H / 2, m.from.getTime() - 1000, m.from.getTime() - 3 * H, 10 * 24 * H, 5 * 24 * H + 17 * H, 3 * 24 * H - 1000].map((t, i) =>
      i < 4 ? t : m.to.getTime() - t,
    );
    const events = at.flatMap((ts, i) =>
      ['deepseek/deepseek-chat', 'qwen/qwen3-coder', 'openai/gpt-4o'].slice(0, 1 + (i % 3)).map((model, j) => ({
        generation_id: `gen-days-${i}-${j}`,
        account_id: `acct_days_${(3 * i + j) % 6}`,
        app: 'edge-app',
        category: 'roleplay',
        ts,
        served_model: model,
        requested_model: model,
        tokens_prompt: 1000 * (i + 1) + j,
        tokens_completion: 7 * j,
      })),
    );
    await insertRequests(s.clickhouse!, events);
    for (const period of ['week', 'month'] as const) {
      const w = periodWindow(period, clock());
      const p = { from: dateTime64(w.from.getTime()), to: dateTime64(w.to.getTime()), prev: dateTime64(w.prevFrom.getTime()) };
      const raw = (from: string, to: string) =>
        queryRows<{ m: string; t: string }>(
          s.clickhouse!,
          `SELECT if(served_model = '', requested_model, served_model) AS m, sum(tokens_prompt + tokens_completion) AS t FROM requests WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} GROUP BY m HAVING m != '' AND t > 0 ORDER BY t DESC, m`,
          { from, to },
        );
      const { body } = await api(`/api/v1/rankings?period=${period}&limit=100`);
      const now = await raw(p.from, p.to);
      expect(body.models.map((x: any) => [x.model, x.tokens])).toEqual(now.map((r) => [r.m, Number(r.t)]));
      const before = new Map((await raw(p.prev, p.from)).map((r) => [r.m, Number(r.t)]));
      for (const x of body.models) expect(x.growth).toBe(before.has(x.model) ? (x.tokens - before.get(x.model)!) / before.get(x.model)! : null);
      const listed = body.models.map((x: { model: string }) => x.model);
      const series = await queryRows<{ t: string; m: string; tokens: string }>(
        s.clickhouse!,
        `SELECT formatDateTime(toStartOfDay(ts), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS t, if(has({listed:Array(String)}, mm), mm, 'other') AS m, sum(tokens_prompt + tokens_completion) AS tokens
           FROM (SELECT *, if(served_model = '', requested_model, served_model) AS mm FROM requests) WHERE mm != '' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} GROUP BY t, m HAVING tokens > 0 ORDER BY t, m`,
        { listed, from: p.from, to: p.to },
      );
      expect(body.series).toEqual({ bucket: 'day', points: series.map((r) => ({ t: r.t, model: r.m, tokens: Number(r.tokens) })) });
      const apps = await queryRows<{ app: string; u: string; n: string; t: string }>(
        s.clickhouse!,
        `SELECT app, uniqExact(account_id) AS u, count() AS n, sum(tokens_prompt + tokens_completion) AS t FROM requests
          WHERE app != '' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} GROUP BY app HAVING u >= 5 ORDER BY t DESC, app`,
        { from: p.from, to: p.to },
      );
      if (period === 'month') expect(apps.map((a) => a.app)).toContain('edge-app'); // too few of its users in the last week
      expect(body.apps).toEqual(apps.map((a) => ({ app: a.app, users: Number(a.u), requests: Number(a.n), tokens: Number(a.t) })));
    }
    // The rows at the month's edges were counted on the right side of it.
    const { body } = await api('/api/v1/rankings?period=month&limit=100');
    expect(body.models.find((x: { model: string }) => x.model === 'deepseek/deepseek-chat').growth).not.toBeNull();
  });
});

describe('model stats API', () => {
  it('per endpoint: attempts, uptime and throughput equal the raw attempts; quantiles agree with t-digest over raw rows', async () => {
    // Throughput is measured on streamed answers only: a few beside the whole ones sent before.
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: auth(keys.a.secret),
        body: JSON.stringify(chatBody('openai/gpt-4o-mini', { stream: true, max_tokens: 20 })),
      });
      await res.arrayBuffer();
    }
    await flushTelemetry(s);
    const { status, body } = await api('/api/v1/models/openai/gpt-4o-mini/stats');
    expect(status).toBe(200);
    expect(body.endpoints.map((e: { provider: string }) => e.provider).sort()).toEqual(['azure', 'openai']);
    const raw = await queryRows<{ endpoint_id: string; n: string; ok: string; bad: string; dt: string; dms: number; lat: number[] }>(
      s.clickhouse!,
      `SELECT endpoint_id, count() AS n, countIf(error_class = 'none') AS ok,
              countIf(error_class NOT IN ('none', 'rate_limited', 'upstream_4xx', 'client_abort')) AS bad,
              sumIf(tokens_completion, error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0) AS dt,
              sumIf(toFloat64(latency_ms - ttft_ms), error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0) AS dms,
              quantilesTDigestIf(0.5, 0.9, 0.99)(latency_ms, error_class = 'none') AS lat
         FROM attempts WHERE model = 'openai/gpt-4o-mini' GROUP BY endpoint_id`,
    );
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.some((r) => r.dms > 0)).toBe(true);
    for (const r of raw) {
      const e = body.endpoints.find((x: { endpoint: string }) => x.endpoint === r.endpoint_id);
      expect(e.requests_1d).toBe(Number(r.n));
      expect(e.uptime.d1).toBe(Number(r.ok) / (Number(r.ok) + Number(r.bad)));
      expect(e.uptime.m5).toBe(e.uptime.d1); // all traffic is minutes old
      if (r.dms > 0) expect(e.tokens_per_second).toBeCloseTo((Number(r.dt) * 1000) / r.dms, 9);
      else expect(e.tokens_per_second).toBeNull();
      expect(e.latency_ms.p50).toBeCloseTo(r.lat[0], 0); // t-digest states merged vs. one pass: same here, within 0.5 ms
      expect(e.pricing).toEqual({ prompt: 0.15, completion: 0.6 });
    }
    const tokens = await queryRows<{ t: string }>(s.clickhouse!, "SELECT sum(tokens_prompt + tokens_completion) AS t FROM requests WHERE served_model = 'openai/gpt-4o-mini'");
    expect(body.daily_tokens.reduce((n: number, d: { tokens: number }) => n + d.tokens, 0)).toBe(Number(tokens[0].t));
  });

  it('hourly series per provider and the apps using the model, only those with enough distinct users', async () => {
    const { body } = await api('/api/v1/models/google/gemini-2.5-flash/stats');
    expect(body.apps.map((a: { app: string }) => a.app)).toEqual(['popular-app']);
    expect(body.apps[0]).toMatchObject({ users: 5, requests: 10 });
    const mini = (await api('/api/v1/models/openai/gpt-4o-mini/stats')).body;
    expect(mini.series.length).toBeGreaterThan(0);
    const [raw] = await queryRows<{ n: string }>(s.clickhouse!, "SELECT countIf(error_class = 'none') AS n FROM attempts WHERE model = 'openai/gpt-4o-mini'");
    expect(Number(raw.n)).toBeGreaterThan(0);
    for (const p of mini.series) {
      expect(p.uptime).toBe(1);
      expect(p.ttft_p50_ms).toBeGreaterThan(0);
    }
    const grok = (await api('/api/v1/models/x-ai/grok-4/stats')).body;
    expect(grok.series.every((p: { uptime: number; ttft_p50_ms: number | null }) => p.uptime === 0 && p.ttft_p50_ms === null)).toBe(true);
  });

  it('performance over time: per provider and hour, requests and uptime equal the raw attempts; percentiles agree with exact ones', async () => {
    const { status, body } = await api('/api/v1/models/openai/gpt-4o-mini/performance?days=2');
    expect(status).toBe(200);
    expect(body.bucket).toBe('hour');
    const raw = await queryRows<{ t: string; provider: string; n: string; ok: string; bad: string; ttft: number[]; rate: number[]; n_streamed: string }>(
      s.clickhouse!,
      `SELECT formatDateTime(toStartOfHour(ts), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS t, provider, count() AS n, countIf(error_class = 'none') AS ok,
              countIf(error_class NOT IN ('none', 'rate_limited', 'upstream_4xx', 'client_abort')) AS bad,
              quantilesExactIf(0.25, 0.75)(ttft_ms, error_class = 'none') AS ttft,
              quantilesExactIf(0.25, 0.75)(tokens_completion / ((latency_ms - ttft_ms) / 1000), error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0) AS rate,
              countIf(error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0) AS n_streamed
         FROM attempts WHERE model = 'openai/gpt-4o-mini' GROUP BY t, provider ORDER BY t, provider`,
    );
    expect(body.points.map((p: any) => [p.t, p.provider, p.requests])).toEqual(raw.map((r) => [r.t, r.provider, Number(r.n)]));
    for (const [i, r] of raw.entries()) {
      const p = body.points[i];
      expect(p.uptime).toBe(Math.round((10_000 * Number(r.ok)) / (Number(r.ok) + Number(r.bad))) / 100);
      // The t-digest median lies between the exact quartiles (a few samples per hour here: no closer bound holds).
      expect(p.ttft_ms.p50).toBeGreaterThanOrEqual(Math.floor(r.ttft[0] * 10) / 10);
      expect(p.ttft_ms.p50).toBeLessThanOrEqual(Math.ceil(r.ttft[1] * 10) / 10);
      expect(p.ttft_ms.p50).toBeLessThanOrEqual(p.ttft_ms.p75);
      expect(p.ttft_ms.p90).toBeLessThanOrEqual(p.ttft_ms.p99);
      if (Number(r.n_streamed) > 0) {
        expect(p.tokens_per_second.p50).toBeGreaterThanOrEqual(Math.floor(r.rate[0] * 10) / 10);
        expect(p.tokens_per_second.p50).toBeLessThanOrEqual(Math.ceil(r.rate[1] * 10) / 10);
        expect(p.tokens_per_second.p99).toBeLessThanOrEqual(p.tokens_per_second.p50); // the slowest percent
      } else expect(p.tokens_per_second).toBeNull();
    }
    expect(raw.some((r) => Number(r.n_streamed) > 0)).toBe(true);
    const daily = (await api('/api/v1/models/openai/gpt-4o-mini/performance?days=30')).body;
    expect(daily.bucket).toBe('day');
    expect(daily.points.reduce((n: number, p: { requests: number }) => n + p.requests, 0)).toBe(raw.reduce((n, r) => n + Number(r.n), 0));
    for (const [path, code] of [
      ['/api/v1/models/openai/gpt-4o-mini/performance?days=0', 400],
      ['/api/v1/models/openai/gpt-4o-mini/performance?days=1000', 400],
      ['/api/v1/models/openai/gpt-4o-mini/performance?bucket=minute', 400],
      ['/api/v1/models/nobody/nothing/performance', 404],
    ] as const)
      expect([path, (await api(path)).status]).toEqual([path, code]);
  });

  it('an endpoint that failed every request shows uptime 0 and no latency', async () => {
    const { body } = await api('/api/v1/models/x-ai/grok-4/stats');
    expect(body.endpoints[0]).toMatchObject({ provider: 'xai', uptime: { m5: 0, m30: 0, d1: 0 }, latency_ms: null, tokens_per_second: null });
  });

  it('an unknown model is a 404, a malformed one a 400', async () => {
    expect((await api('/api/v1/models/nobody/nothing/stats')).status).toBe(404);
    expect((await api(`/api/v1/models/${encodeURIComponent("x' OR 1=1")}/y/stats`)).status).toBe(400);
  });
});

describe('share over time', () => {
  it('by author, category and model over a span of whole days: each bucket equals the raw rows, shares sum to 1', async () => {
    const today = new Date(clock()).toISOString().slice(0, 10);
    const to = new Date(Date.parse(today) - 86_400_000).toISOString().slice(0, 10);
    const from = new Date(Date.parse(to) - 39 * 86_400_000).toISOString().slice(0, 10);
    for (const by of ['author', 'category', 'model'] as const) {
      const { status, body } = await api(`/api/v1/rankings/share?by=${by}&from=${from}&to=2099-01-01`);
      expect(status).toBe(200);
      expect([body.from, body.to, body.bucket]).toEqual([from, to, 'day']); // the current day is not complete
      const key = { author: "splitByChar('/', mm)[1]", category: 'category', model: 'mm' }[by];
      const raw = await queryRows<{ t: string; k: string; tokens: string }>(
        s.clickhouse!,
        `SELECT toString(toDate(ts)) AS t, ${key} AS k, sum(tokens_prompt + tokens_completion) AS tokens
           FROM (SELECT *, if(served_model = '', requested_model, served_model) AS mm FROM requests)
          WHERE mm != '' AND toDate(ts) >= {from:String} AND toDate(ts) <= {to:String} GROUP BY t, k HAVING tokens > 0 ORDER BY t, k`,
        { from, to },
      );
      expect(raw.length).toBeGreaterThan(0);
      const totals = new Map<string, number>();
      for (const r of raw) totals.set(r.t, (totals.get(r.t) ?? 0) + Number(r.tokens));
      expect(body.totals).toEqual([...totals].map(([t, tokens]) => ({ t, tokens })));
      for (const p of body.points) {
        const want = p.key === 'other' ? undefined : raw.find((r) => r.t === p.t && r.k === p.key);
        if (want) expect(p.tokens).toBe(Number(want.tokens));
        expect(p.share).toBe(p.tokens / totals.get(p.t)!);
      }
      for (const t of totals.keys()) {
        const sum = body.points.filter((p: { t: string }) => p.t === t).reduce((n: number, p: { tokens: number }) => n + p.tokens, 0);
        expect(sum).toBe(totals.get(t));
      }
    }
    const weekly = (await api(`/api/v1/rankings/share?by=author&from=${from}&to=${to}&bucket=week`)).body;
    expect(weekly.totals.reduce((n: number, x: { tokens: number }) => n + x.tokens, 0)).toBe(
      (await api(`/api/v1/rankings/share?by=author&from=${from}&to=${to}`)).body.totals.reduce((n: number, x: { tokens: number }) => n + x.tokens, 0),
    );
    for (const q of ['from=2026-13-01', 'from=2030-01-01', 'from=2020-01-01', 'by=provider', 'bucket=year', 'category=nope', 'x=1']) {
      expect([q, (await api(`/api/v1/rankings/share?${q}`)).status]).toEqual([q, 400]);
    }
  });
});

describe('catalog history', () => {
  it('records every endpoint at first start, then only changes', async () => {
    const [first] = await queryRows<{ n: string }>(s.clickhouse!, "SELECT count() AS n FROM catalog_history WHERE change = 'listed'");
    expect(Number(first.n)).toBe([...s.catalog.endpoints].length);
    const { recordCatalog } = await import('../../analytics/catalog-history.ts');
    const { loadCatalog } = await import('../../catalog/catalog.ts');
    expect(await recordCatalog(s.clickhouse!, loadCatalog())).toBe(0); // nothing changed
    const cheaper = loadCatalog().extend(
      [{ id: 'openai/gpt-4o', endpoints: [{ provider: 'azure', contextLength: 128_000, maxCompletionTokens: 16_384, pricePrompt: 1.25, priceCompletion: 5 }] }],
      [],
    );
    expect(await recordCatalog(s.clickhouse!, cheaper, Date.now() + 1000)).toBe(1);
    const [row] = await queryRows<{ change: string; price_prompt: number }>(
      s.clickhouse!,
      "SELECT change, price_prompt FROM catalog_history WHERE endpoint_id = 'azure:openai/gpt-4o' ORDER BY ts DESC LIMIT 1",
    );
    expect(row).toEqual({ change: 'price', price_prompt: 1.25 });
  });
});

describe('aggregate repair after a crash', () => {
  it('raw rows whose aggregate rows never landed are added to the aggregates, once', async () => {
    const { reconcileUsage } = await import('../../store/reconcile.ts');
    // What a kill between the raw part and the view parts leaves: raw rows the views never saw.
    const views = ['usage_daily_account_mv', 'usage_hourly_mv', 'usage_daily_model_mv'];
    for (const mv of views) await s.clickhouse!.command({ query: `DETACH TABLE ${mv}` });
    await insertRequests(
      s.clickhouse!,
      Array.from({ length: 3 }, (_, i) => ({
        generation_id: `gen-lost-${i}`,
        account_id: 'acct_lost',
        ts: Date.now() - i * 1000,
        served_model: 'openai/gpt-4o',
        tokens_prompt: 100 + i,
        cost_usd: 0.001 * (i + 1),
      })),
    );
    for (const mv of views) await s.clickhouse!.command({ query: `ATTACH TABLE ${mv}` });
    const agg = async () =>
      (
        await queryRows<Record<string, string>>(
          s.clickhouse!,
          "SELECT sum(requests) AS n, sum(tokens_prompt) AS p, sum(cost_nusd) AS c FROM usage_daily_account WHERE account_id = 'acct_lost'",
        )
      )[0];
    expect(Number((await agg()).n)).toBe(0);
    const hourlyBefore = Number((await queryRows<{ n: string }>(s.clickhouse!, 'SELECT sum(requests) AS n FROM usage_hourly'))[0].n);
    const dailyBefore = Number((await queryRows<{ n: string }>(s.clickhouse!, 'SELECT sum(requests) AS n FROM usage_daily_model'))[0].n);
    expect(await reconcileUsage(s.clickhouse!, Date.now() - 86_400_000)).toBeGreaterThan(0);
    expect(await agg()).toEqual(
      (
        await queryRows<Record<string, string>>(
          s.clickhouse!,
          "SELECT count() AS n, sum(tokens_prompt) AS p, sum(toUInt64(round(cost_usd * 1e9))) AS c FROM requests WHERE account_id = 'acct_lost'",
        )
      )[0],
    );
    expect(Number((await queryRows<{ n: string }>(s.clickhouse!, 'SELECT sum(requests) AS n FROM usage_hourly'))[0].n)).toBe(hourlyBefore + 3);
    expect(Number((await queryRows<{ n: string }>(s.clickhouse!, 'SELECT sum(requests) AS n FROM usage_daily_model'))[0].n)).toBe(dailyBefore + 3);
    expect(await reconcileUsage(s.clickhouse!, Date.now() - 86_400_000)).toBe(0); // nothing left to add
  });
});

describe('parameter validation', () => {
  it('rejects bad periods, limits, categories, dates, groupings and injection attempts with 400, changing nothing', async () => {
    const before = await queryRows<{ n: string }>(s.clickhouse!, 'SELECT count() AS n FROM requests');
    for (const path of [
      '/api/v1/rankings?period=year',
      '/api/v1/rankings?limit=0',
      '/api/v1/rankings?limit=101',
      '/api/v1/rankings?limit=ten',
      '/api/v1/rankings?category=cooking',
      `/api/v1/rankings?category=${encodeURIComponent("programming' OR 1=1 --")}`,
      `/api/v1/rankings?period=${encodeURIComponent('day; DROP TABLE requests')}`,
      '/api/v1/rankings?surprise=1',
    ]) {
      const { status, body } = await api(path);
      expect(status, path).toBe(400);
      expect(body.error.type).toBe('invalid_request_error');
    }
    for (const path of [
      '/api/v1/usage?group_by=account_id',
      '/api/v1/usage?from=2026-02-30',
      '/api/v1/usage?from=2026-03-01&to=2026-02-01',
      '/api/v1/usage?from=2020-01-01&to=2026-01-01',
      `/api/v1/usage?to=${encodeURIComponent("2026-01-01' OR '1'='1")}`,
    ]) {
      expect((await api(path, keys.a.secret)).status, path).toBe(400);
    }
    expect(await queryRows<{ n: string }>(s.clickhouse!, 'SELECT count() AS n FROM requests')).toEqual(before);
  });
});
