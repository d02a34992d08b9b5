// Migrations that reshape aggregates on a database that already holds rows: each fills the new shape from
// what is there, a re-run (a crash before the migration was recorded) changes nothing, and rows inserted
// afterwards flow through the new views. Every figure is checked against one query over the raw rows.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { closeClickHouse, openClickHouse, queryRows } from '../../store/clickhouse.ts';
import { migrate } from '../../store/migrate.ts';
import { MIGRATIONS } from '../../store/migrations.ts';
import { randomUUID } from 'node:crypto';
import { insertEvents } from '../../store/rows.ts';
import { ERROR_CLASSES, PROVIDER_FAILURES, type AttemptEvent } from '../../telemetry/event.ts';
import { insertRequests } from '../fixtures/events.ts';

const sampleAttempt: AttemptEvent = {
  kind: 'attempt',
  v: 1,
  event_id: '',
  generation_id: '',
  ts: Date.now() - 60_000,
  account_id: 'acct_9',
  key_id: 'key_9',
  provider: '',
  endpoint_id: '',
  status: 200,
  error_class: 'none',
  latency_ms: 10,
  ttft_ms: 5,
  tokens_prompt: 1,
  tokens_completion: 1,
  cost_usd: 0,
  streamed: false,
  attempt: 0,
  model: '',
};

let ch: ClickHouseClient;
const DAY = 86_400_000;
const upTo = (v: number) => MIGRATIONS.filter((m) => m.version <= v);
const rerun = async (v: number) => {
  for (const q of MIGRATIONS.find((m) => m.version === v)!.statements) await ch.command({ query: q });
};

/** Requests from `accounts` accounts over three days, in two apps and two models. */
async function insert(accounts: number, tag: string) {
  const now = Date.now();
  await insertRequests(
    ch,
    Array.from({ length: accounts * 3 }, (_, i) => ({
      generation_id: `gen-${tag}-${i}`,
      ts: now - (i % 3) * DAY - 60_000,
      account_id: `acct_${i % accounts}`,
      app: i % 2 ? 'app-odd' : 'app-even',
      category: i % 4 ? 'general' : 'programming',
      served_model: i % 5 ? 'openai/gpt-4o' : 'qwen/qwen3-coder',
      requested_model: 'openai/gpt-4o',
      tokens_prompt: 10 + i,
      tokens_completion: i % 7,
    })),
  );
}

const apps = () =>
  queryRows<Record<string, string>>(
    ch,
    'SELECT app, uniqCombined64Merge(users_approx) AS users, sum(requests) AS requests, sum(tokens) AS tokens FROM app_daily GROUP BY app ORDER BY app',
  );
const rawApps = () =>
  queryRows<Record<string, string>>(
    ch,
    "SELECT app, uniqExact(account_id) AS users, count() AS requests, sum(tokens_prompt + tokens_completion) AS tokens FROM requests WHERE app != '' GROUP BY app ORDER BY app",
  );
const hourlyApps = () =>
  queryRows<Record<string, string>>(
    ch,
    'SELECT hour, app, category, uniqCombined64Merge(users_approx) AS users, sum(requests) AS requests, sum(tokens) AS tokens FROM app_hourly GROUP BY hour, app, category ORDER BY hour, app, category',
  );
const rawHourlyApps = () =>
  queryRows<Record<string, string>>(
    ch,
    "SELECT toStartOfHour(ts) AS hour, app, category, uniqExact(account_id) AS users, count() AS requests, sum(tokens_prompt + tokens_completion) AS tokens FROM requests WHERE app != '' GROUP BY hour, app, category ORDER BY hour, app, category",
  );
const daily = () =>
  queryRows<Record<string, string>>(
    ch,
    'SELECT day, model, category, sum(requests) AS requests, sum(tokens_prompt) AS p, sum(tokens_completion) AS c FROM usage_daily_model GROUP BY day, model, category ORDER BY day, model, category',
  );
const rawDaily = () =>
  queryRows<Record<string, string>>(
    ch,
    "SELECT toDate(ts) AS day, if(served_model = '', requested_model, served_model) AS model, category, count() AS requests, sum(tokens_prompt) AS p, sum(tokens_completion) AS c FROM requests GROUP BY day, model, category ORDER BY day, model, category",
  );

beforeAll(async () => {
  ch = await openClickHouse({ url: undefined, dataDir: mkdtempSync(join(tmpdir(), 'migrations-')) });
  await migrate(ch, 400, upTo(5));
  // The rows are written by today's writer, which names migration 10's, 14's and 15's request columns: those
  // come first here (their statements are idempotent, and the migrations themselves run in their turn below).
  await rerun(10);
  for (const v of [14, 15]) for (const q of MIGRATIONS.find((m) => m.version === v)!.statements.filter((q) => q.startsWith('ALTER TABLE requests'))) await ch.command({ query: q });
  await insert(40, 'before');
});
afterAll(async () => {
  if (ch) await closeClickHouse(ch, true);
});

describe('migrations over existing rows', () => {
  it('6: the daily model aggregate is filled from the hourly one, once, and then by its view', async () => {
    expect(await migrate(ch, 400, upTo(6))).toEqual([6]);
    expect(await daily()).toEqual(await rawDaily());
    await rerun(6);
    expect(await daily()).toEqual(await rawDaily());
  });

  it('7: apps get approximate distinct users from the raw rows kept, once, and then from their view', async () => {
    expect(await migrate(ch, 400, upTo(7))).toEqual([7]);
    const raw = await rawApps();
    expect(raw.map((r) => Number(r.users))).toEqual([20, 20]);
    expect(await apps()).toEqual(raw);
    await rerun(7);
    expect(await apps()).toEqual(raw);
  });

  it('8: apps per hour are filled from the raw rows kept, once, and then by their view', async () => {
    expect(await migrate(ch, 400, upTo(8))).toEqual([8]);
    expect(await hourlyApps()).toEqual(await rawHourlyApps());
    await rerun(8);
    expect(await hourlyApps()).toEqual(await rawHourlyApps());
  });

  it("9: the per-minute view counts only providers' own failures", async () => {
    expect(await migrate(ch, 400, upTo(9))).toEqual([9]);
    const classes = [...ERROR_CLASSES];
    const base = { ...sampleAttempt, model: 'm9/x', endpoint_id: 'p9:m9/x', provider: 'p9' };
    await insertEvents(
      ch,
      classes.map((c, i) => ({ ...base, event_id: randomUUID(), generation_id: `gen-m9-${i}`, error_class: c, status: c === 'none' ? 200 : 500 })),
    );
    const [m] = await queryRows<Record<string, string>>(
      ch,
      "SELECT sum(attempts) AS attempts, sum(successes) AS ok, sum(failures) AS failures, sum(rate_limited) AS limited, sum(client_errors) AS client FROM endpoint_minute WHERE model = 'm9/x'",
    );
    expect(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]))).toEqual({
      attempts: classes.length,
      ok: 1,
      failures: PROVIDER_FAILURES.length,
      limited: 1,
      client: 1,
    });
  });

  it("10: requests gain the answer's facts, with defaults for rows written before", async () => {
    expect(await migrate(ch, 400, upTo(10))).toEqual([10]);
    const [r] = await queryRows<Record<string, string>>(
      ch,
      "SELECT countIf(finish_reason = '' AND upstream_id = '' AND external_user = '' AND tokens_cached = 0 AND tokens_reasoning = 0) AS defaults, count() AS n FROM requests WHERE generation_id LIKE 'gen-before-%'",
    );
    expect(Number(r.n)).toBe(120);
    expect(r.defaults).toBe(r.n);
  });

  it('11: the per-minute view measures throughput on streamed answers only', async () => {
    expect(await migrate(ch, 400, upTo(11))).toEqual([11]);
    const base = { ...sampleAttempt, model: 'm11/x', endpoint_id: 'p11:m11/x', provider: 'p11', latency_ms: 1000, ttft_ms: 200, tokens_completion: 80 };
    await insertEvents(ch, [
      { ...base, event_id: randomUUID(), generation_id: 'gen-m11-stream', streamed: true },
      { ...base, event_id: randomUUID(), generation_id: 'gen-m11-whole', streamed: false, ttft_ms: 999 },
    ]);
    const [m] = await queryRows<{ dt: string; dms: number; ok: string }>(
      ch,
      "SELECT sum(decode_tokens) AS dt, sum(decode_ms) AS dms, sum(successes) AS ok FROM endpoint_minute WHERE model = 'm11/x'",
    );
    expect([Number(m.dt), m.dms, Number(m.ok)]).toEqual([80, 800, 2]);
  });

  it('12: weekly account use and apps per model are filled from the raw rows kept, once, and then by their views', async () => {
    const weekly = () =>
      queryRows<{ w: string; c: string; a: string; m: string; t: string }>(
        ch,
        'SELECT toString(week) AS w, category AS c, account_id AS a, model AS m, sum(tokens) AS t FROM account_week_model GROUP BY w, c, a, m ORDER BY w, c, a, m',
      );
    const rawWeekly = () =>
      queryRows<{ w: string; c: string; a: string; m: string; t: string }>(
        ch,
        `SELECT toString(toMonday(ts)) AS w, category AS c, account_id AS a, served_model AS m, sum(tokens_prompt + tokens_completion) AS t
           FROM requests WHERE status = 200 AND served_model != '' AND requested_model NOT LIKE 'switchboard/auto%' GROUP BY w, c, a, m ORDER BY w, c, a, m`,
      );
    const modelApps = () =>
      queryRows<{ d: string; m: string; app: string; u: string; n: string; t: string }>(
        ch,
        'SELECT toString(day) AS d, model AS m, app, uniqCombined64Merge(users_approx) AS u, sum(requests) AS n, sum(tokens) AS t FROM app_model_daily GROUP BY d, m, app ORDER BY d, m, app',
      );
    const rawModelApps = () =>
      queryRows<{ d: string; m: string; app: string; u: string; n: string; t: string }>(
        ch,
        `SELECT toString(toDate(ts)) AS d, if(served_model = '', requested_model, served_model) AS m, app, uniqExact(account_id) AS u, count() AS n, sum(tokens_prompt + tokens_completion) AS t
           FROM requests WHERE app != '' GROUP BY d, m, app ORDER BY d, m, app`,
      );
    expect(await migrate(ch, 400, upTo(12))).toEqual([12]);
    expect((await rawWeekly()).length).toBeGreaterThan(0);
    expect(await weekly()).toEqual(await rawWeekly());
    expect(await modelApps()).toEqual(await rawModelApps());
    // A re-run (a crash before the migration was recorded) adds nothing twice.
    await rerun(12);
    expect(await weekly()).toEqual(await rawWeekly());
    expect(await modelApps()).toEqual(await rawModelApps());
    await insert(56, 'after12');
    expect(await weekly()).toEqual(await rawWeekly());
    expect(await modelApps()).toEqual(await rawModelApps());
  });

  it('13: endpoint hours are filled from the raw attempts kept, once, and then by their view', async () => {
    const base = { ...sampleAttempt, model: 'm13/x', endpoint_id: 'p13:m13/x', provider: 'p13', latency_ms: 1000, ttft_ms: 200, tokens_completion: 80, streamed: true };
    await insertEvents(ch, [
      { ...base, event_id: randomUUID(), generation_id: 'gen-m13-a' },
      { ...base, event_id: randomUUID(), generation_id: 'gen-m13-b', error_class: 'upstream_5xx', status: 502 },
    ]);
    const hours = () =>
      queryRows<{ n: string; ok: string; bad: string; rate: number[] }>(
        ch,
        "SELECT sum(attempts) AS n, sum(successes) AS ok, sum(failures) AS bad, quantilesTDigestMerge(0.5)(throughput) AS rate FROM endpoint_hour WHERE model = 'm13/x'",
      );
    const rawCount = async () => Number((await queryRows<{ n: string }>(ch, 'SELECT count() AS n FROM attempts'))[0].n);
    const allHours = async () => Number((await queryRows<{ n: string }>(ch, 'SELECT sum(attempts) AS n FROM endpoint_hour'))[0].n);
    expect(await migrate(ch, 400, upTo(13))).toEqual([13]);
    expect(await allHours()).toBe(await rawCount());
    await rerun(13);
    expect(await allHours()).toBe(await rawCount());
    await insertEvents(ch, [{ ...base, event_id: randomUUID(), generation_id: 'gen-m13-c' }]);
    const [h] = await hours();
    expect([Number(h.n), Number(h.ok), Number(h.bad), h.rate[0]]).toEqual([3, 2, 1, 100]); // 80 tokens in 0.8 s
    expect(await allHours()).toBe(await rawCount());
  });

  it('14: requests gain session and step; tokens per day, model, account and session are filled once, then by the view', async () => {
    const rollup = () =>
      queryRows(
        ch,
        'SELECT toString(day) AS d, model, category, account_id, session_id, sum(requests) AS n, sum(tokens) AS t FROM session_usage GROUP BY d, model, category, account_id, session_id ORDER BY d, model, category, account_id, session_id',
      );
    const raw = () =>
      queryRows(
        ch,
        `SELECT toString(toDate(ts)) AS d, served_model AS model, category, account_id, session_id, count() AS n, sum(tokens_prompt + tokens_completion) AS t
           FROM requests WHERE served_model != '' GROUP BY d, model, category, account_id, session_id ORDER BY d, model, category, account_id, session_id`,
      );
    expect(await migrate(ch, 400, upTo(14))).toEqual([14]);
    expect((await raw()).length).toBeGreaterThan(0);
    expect(await rollup()).toEqual(await raw());
    await rerun(14);
    expect(await rollup()).toEqual(await raw());
    await insertRequests(ch, [
      {
        generation_id: 'gen-m14-a',
        ts: Date.now() - 60_000,
        account_id: 'acct_m14',
        served_model: 'm14/x',
        requested_model: 'm14/x',
        session_id: 'run-1',
        step: 'plan',
        tokens_prompt: 10,
      },
      {
        generation_id: 'gen-m14-b',
        ts: Date.now() - 60_000,
        account_id: 'acct_m14',
        served_model: 'm14/x',
        requested_model: 'm14/x',
        session_id: 'run-1',
        step: 'act',
        tokens_prompt: 5,
      },
    ]);
    expect(await rollup()).toEqual(await raw());
    await insertRequests(ch, [
      {
        generation_id: 'gen-m14-auto',
        ts: Date.now() - 60_000,
        account_id: 'acct_m14',
        served_model: 'm14/x',
        requested_model: 'switchboard/auto:programming',
        category: 'programming',
        tokens_prompt: 7,
      },
    ]);
    const auto = await queryRows(
      ch,
      'SELECT toString(day) AS d, category, model, sum(requests) AS n, sum(tokens) AS t FROM auto_daily GROUP BY d, category, model ORDER BY d, category, model',
    );
    expect(auto).toEqual(
      await queryRows(
        ch,
        `SELECT toString(toDate(ts)) AS d, category, served_model AS model, count() AS n, sum(tokens_prompt + tokens_completion) AS t FROM requests
          WHERE requested_model LIKE 'switchboard/auto%' AND served_model != '' GROUP BY d, category, model ORDER BY d, category, model`,
      ),
    );
    expect(auto.length).toBe(1);
    const [r] = await queryRows<{ steps: string[] }>(ch, "SELECT groupArray(step) AS steps FROM (SELECT step FROM requests WHERE session_id = 'run-1' ORDER BY step)");
    expect(r.steps).toEqual(['act', 'plan']);
  });

  it('15: keys, policies and the audit log exist; requests a policy refused are kept for the audit, each once', async () => {
    expect(await migrate(ch, 400, upTo(15))).toEqual([15]);
    for (const table of ['api_keys', 'org_policies', 'audit_log']) expect(await queryRows(ch, `SELECT count() AS n FROM ${table}`)).toEqual([{ n: 0 }]);
    const now = Date.now();
    const refused = {
      ts: now,
      account_id: 'acct_p',
      key_id: 'key_p',
      requested_model: 'openai/gpt-4o',
      served_model: '',
      status: 403,
      error_class: 'policy_denied' as const,
      policy: 'key p',
    };
    await insertRequests(ch, [
      { ...refused, generation_id: 'gen-refused-1' },
      { ...refused, generation_id: 'gen-refused-2', policy: 'organization acme' },
      { ...refused, generation_id: 'gen-served', error_class: 'none', status: 200, served_model: 'openai/gpt-4o', policy: undefined },
    ]);
    // A replayed batch (the same generation again) stays one denial.
    await insertRequests(ch, [{ ...refused, generation_id: 'gen-refused-1' }]);
    expect(await queryRows(ch, 'SELECT generation_id, key_id, account_id, requested_model, policy FROM policy_denials FINAL ORDER BY generation_id')).toEqual([
      { generation_id: 'gen-refused-1', key_id: 'key_p', account_id: 'acct_p', requested_model: 'openai/gpt-4o', policy: 'key p' },
      { generation_id: 'gen-refused-2', key_id: 'key_p', account_id: 'acct_p', requested_model: 'openai/gpt-4o', policy: 'organization acme' },
    ]);
  });

  it('rows inserted afterwards flow through the new views', async () => {
    await insert(55, 'after');
    expect(await apps()).toEqual(await rawApps());
    expect(await hourlyApps()).toEqual(await rawHourlyApps());
    expect(await daily()).toEqual(await rawDaily());
    expect(await migrate(ch, 400)).toEqual([]);
  });
});
