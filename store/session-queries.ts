// An account's agent sessions from its raw requests (owner only, like a generation record): each session's
// calls, tokens, cost, latency and failovers, and one session's calls per step. Read by account over a
// window of days, so a session list costs that account's rows in the window.
import type { ClickHouseClient } from '@clickhouse/client';
import { dateTime64, queryRows } from './clickhouse.ts';

export interface SessionSummary {
  session_id: string;
  first_at: string;
  last_at: string;
  calls: number;
  failed: number;
  models: string[];
  steps: string[];
  tokens: number;
  cost_usd: number;
  latency_ms: number;
  failovers: number;
}

interface Row {
  session_id: string;
  first_at: string;
  last_at: string;
  calls: string;
  failed: string;
  models: string[];
  steps: string[];
  tokens: string;
  cost_nusd: string;
  latency_ms: number;
  failovers: string;
}

const SUMMARY = `session_id,
       formatDateTime(min(ts), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS first_at, formatDateTime(max(ts), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS last_at,
       count() AS calls, countIf(status != 200) AS failed,
       arraySort(groupUniqArrayIf(served_model, served_model != '')) AS models, arraySort(groupUniqArrayIf(step, step != '')) AS steps,
       sum(tokens_prompt + tokens_completion) AS tokens, sum(toUInt64(round(cost_usd * 1e9)) + toUInt64(round(fee_usd * 1e9))) AS cost_nusd,
       sum(latency_ms) AS latency_ms, sum(fallback_depth) AS failovers`;

const summary = (r: Row): SessionSummary => ({
  session_id: r.session_id,
  first_at: r.first_at,
  last_at: r.last_at,
  calls: Number(r.calls),
  failed: Number(r.failed),
  models: r.models,
  steps: r.steps,
  tokens: Number(r.tokens),
  cost_usd: Number(r.cost_nusd) / 1e9,
  latency_ms: Math.round(r.latency_ms),
  failovers: Number(r.failovers),
});

/** The account's sessions with calls in [fromMs, toMs), latest first. */
export async function sessionsOf(ch: ClickHouseClient, account: string, fromMs: number, toMs: number, limit: number): Promise<SessionSummary[]> {
  const rows = await queryRows<Row>(
    ch,
    `SELECT ${SUMMARY}
       FROM requests
      WHERE account_id = {account:String} AND session_id != '' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
      GROUP BY session_id ORDER BY max(ts) DESC, session_id LIMIT {limit:UInt32}`,
    { account, from: dateTime64(fromMs), to: dateTime64(toMs), limit },
  );
  return rows.map(summary);
}

export interface SessionStep {
  step: string;
  calls: number;
  models: { model: string; calls: number; tokens: number; cost_usd: number }[];
  tokens: number;
  cost_usd: number;
  latency_ms: number;
  failovers: number;
}

export interface SessionCall {
  generation_id: string;
  at: string;
  step: string;
  requested_model: string;
  served_model: string;
  status: number;
  tokens: number;
  cost_usd: number;
  latency_ms: number;
  fallback_depth: number;
}

/** One session of the account: its summary, per step and model, and its calls in order (null: none). */
export async function sessionOf(ch: ClickHouseClient, account: string, id: string): Promise<{ summary: SessionSummary; steps: SessionStep[]; calls: SessionCall[] } | null> {
  const p = { account, id };
  const [head] = await queryRows<Row>(ch, `SELECT ${SUMMARY} FROM requests WHERE account_id = {account:String} AND session_id = {id:String} GROUP BY session_id`, p);
  if (!head) return null;
  const perModel = await queryRows<{ step: string; model: string; calls: string; tokens: string; cost_nusd: string; latency_ms: number; failovers: string }>(
    ch,
    `SELECT step, served_model AS model, count() AS calls, sum(tokens_prompt + tokens_completion) AS tokens,
            sum(toUInt64(round(cost_usd * 1e9)) + toUInt64(round(fee_usd * 1e9))) AS cost_nusd, sum(latency_ms) AS latency_ms, sum(fallback_depth) AS failovers
       FROM requests WHERE account_id = {account:String} AND session_id = {id:String}
      GROUP BY step, model ORDER BY step, model`,
    p,
  );
  const steps = new Map<string, SessionStep>();
  const stepNusd = new Map<string, number>(); // summed in nano-dollars, as the totals are
  for (const r of perModel) {
    const s = steps.get(r.step) ?? { step: r.step, calls: 0, models: [], tokens: 0, cost_usd: 0, latency_ms: 0, failovers: 0 };
    s.models.push({ model: r.model, calls: Number(r.calls), tokens: Number(r.tokens), cost_usd: Number(r.cost_nusd) / 1e9 });
    s.calls += Number(r.calls);
    s.tokens += Number(r.tokens);
    stepNusd.set(r.step, (stepNusd.get(r.step) ?? 0) + Number(r.cost_nusd));
    s.cost_usd = stepNusd.get(r.step)! / 1e9;
    s.latency_ms += Math.round(r.latency_ms);
    s.failovers += Number(r.failovers);
    steps.set(r.step, s);
  }
  const calls = await queryRows<
    Omit<SessionCall, 'status' | 'tokens' | 'cost_usd' | 'fallback_depth'> & { status: number; tokens: string; cost_nusd: string; fallback_depth: number }
  >(
    ch,
    `SELECT generation_id, formatDateTime(ts, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS at, step, requested_model, served_model, status,
            tokens_prompt + tokens_completion AS tokens, toUInt64(round(cost_usd * 1e9)) + toUInt64(round(fee_usd * 1e9)) AS cost_nusd,
            latency_ms, fallback_depth
       FROM requests WHERE account_id = {account:String} AND session_id = {id:String} ORDER BY ts, generation_id LIMIT 10000`,
    p,
  );
  return {
    summary: summary(head),
    steps: [...steps.values()],
    calls: calls.map(({ cost_nusd, ...c }) => ({
      ...c,
      status: Number(c.status),
      tokens: Number(c.tokens),
      cost_usd: Number(cost_nusd) / 1e9,
      latency_ms: Math.round(c.latency_ms),
      fallback_depth: Number(c.fallback_depth),
    })),
  };
}
