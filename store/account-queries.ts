// An account's own records: one generation and its attempts, usage by a fixed grouping, activity by day,
// and what a key or the account has spent. Every query is scoped by the account the caller's key belongs
// to; no parameter widens it. Money is summed in integer nano-dollars (exact), as the aggregates store it.
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './clickhouse.ts';
import type { BudgetPeriod } from '../governance/policy.ts';
import { USAGE_RESUM } from './migrations.ts';

export interface GenerationRow {
  id: string;
  created_at: string;
  requested_model: string;
  model: string;
  provider: string;
  endpoint_id: string;
  app: string;
  category: string;
  status: number;
  error_class: string;
  streamed: boolean;
  latency_ms: number;
  ttft_ms: number;
  tokens_prompt: number;
  tokens_completion: number;
  cost_usd: number;
  platform_fee_usd: number;
  fallback_depth: number;
  finish_reason: string;
  native_finish_reason: string;
  upstream_id: string;
  external_user: string;
  tokens_cached: number;
  tokens_reasoning: number;
}

export interface AttemptRow {
  attempt: number;
  model: string;
  provider: string;
  endpoint_id: string;
  status: number;
  error_class: string;
  latency_ms: number;
  ttft_ms: number;
  tokens_prompt: number;
  tokens_completion: number;
  cost_usd: number;
}

export async function generation(ch: ClickHouseClient, id: string, account: string): Promise<GenerationRow | undefined> {
  const [row] = await queryRows<GenerationRow>(
    ch,
    `SELECT generation_id AS id, formatDateTime(ts, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS created_at, requested_model, served_model AS model,
            provider, endpoint_id, app, category, status, error_class, streamed, latency_ms, ttft_ms, tokens_prompt, tokens_completion,
            cost_usd, fee_usd AS platform_fee_usd, fallback_depth, finish_reason, native_finish_reason, upstream_id, external_user,
            tokens_cached, tokens_reasoning
       FROM requests WHERE generation_id = {id:String} AND account_id = {account:String} LIMIT 1`,
    { id, account },
  );
  return row;
}

export const attemptsOf = (ch: ClickHouseClient, id: string, account: string): Promise<AttemptRow[]> =>
  queryRows<AttemptRow>(
    ch,
    `SELECT attempt, model, provider, endpoint_id, status, error_class, latency_ms, ttft_ms, tokens_prompt, tokens_completion, cost_usd
       FROM attempts WHERE generation_id = {id:String} AND account_id = {account:String} ORDER BY attempt`,
    { id, account },
  );

/** The usage aggregate's measures, as read: counts and nano-dollars as decimal text. */
export interface UsageSums {
  requests: string;
  errors: string;
  tokens_prompt: string;
  tokens_completion: string;
  cost_nusd: string;
  fee_nusd: string;
}

/** Groupings of usage a caller may ask for: a fixed table, so the expression never comes from input. */
export const USAGE_GROUPS = { day: 'toString(day)', model: 'model', provider: 'provider', key: 'key_id' } as const;
export type UsageGroup = keyof typeof USAGE_GROUPS;

/** Whose usage: one account's, or a set of keys' (an organisation's, for its management key). */
export type UsageScope = { account: string } | { keys: readonly string[] };
const scopeWhere = (scope: UsageScope) => ('account' in scope ? 'account_id = {account:String}' : 'key_id IN {keys:Array(String)}');

export async function usageBy(ch: ClickHouseClient, scope: UsageScope, from: string, to: string, group: UsageGroup) {
  const params = { ...scope, from, to };
  const where = `${scopeWhere(scope)} AND day BETWEEN {from:Date} AND {to:Date}`;
  const rows = await queryRows<UsageSums & { group: string }>(
    ch,
    `SELECT ${USAGE_GROUPS[group]} AS group, ${USAGE_RESUM} FROM usage_daily_account WHERE ${where} GROUP BY group ORDER BY group`,
    params,
  );
  const [totals] = await queryRows<UsageSums>(ch, `SELECT ${USAGE_RESUM} FROM usage_daily_account WHERE ${where}`, params);
  return { rows, totals };
}

/** The last 30 days by day, model and provider, newest first. */
export const activity = (ch: ClickHouseClient, scope: UsageScope) =>
  queryRows<UsageSums & { date: string; model: string; provider: string }>(
    ch,
    `SELECT toString(day) AS date, model, provider, ${USAGE_RESUM} FROM usage_daily_account
      WHERE ${scopeWhere(scope)} AND day >= today() - 29 GROUP BY date, model, provider ORDER BY date DESC, model, provider`,
    scope,
  );

export interface Spent {
  total: number;
  day: number;
  week: number;
  month: number;
}

// Aliases apart from the column names: an alias named `day` would stand for the column in what follows.
const CHARGED = 'cost_nusd + fee_nusd';
const SPENT_SUMS = `sum(${CHARGED}) AS total, sumIf(${CHARGED}, day = today()) AS today, sumIf(${CHARGED}, day >= toMonday(today())) AS this_week,
            sumIf(${CHARGED}, day >= toStartOfMonth(today())) AS this_month`;
type SpentRow = { total: string; today: string; this_week: string; this_month: string };
const usd = (n: string) => Number(n) / 1e9;
const spentOf = (r: SpentRow | undefined): Spent =>
  r ? { total: usd(r.total), day: usd(r.today), week: usd(r.this_week), month: usd(r.this_month) } : { total: 0, day: 0, week: 0, month: 0 };

/** What was spent in the current period of a budget or limit (null: all time). */
export const spentIn = (s: Spent, period: BudgetPeriod | null): number => (period === 'daily' ? s.day : period === 'weekly' ? s.week : period === 'monthly' ? s.month : s.total);

/** USD charged (provider cost and fee) in all, today, this ISO week and this month (UTC), of one key or (key undefined) the whole account. */
export async function spent(ch: ClickHouseClient, account: string, key?: string): Promise<Spent> {
  const [r] = await queryRows<SpentRow>(ch, `SELECT ${SPENT_SUMS} FROM usage_daily_account WHERE account_id = {account:String} AND ({key:String} = '' OR key_id = {key:String})`, {
    account,
    key: key ?? '',
  });
  return spentOf(r);
}

/** The same figures for each of a set of keys (an organisation's), whatever their accounts. */
export async function spentByKeys(ch: ClickHouseClient, keys: readonly string[]): Promise<Map<string, Spent>> {
  const rows = await queryRows<SpentRow & { key_id: string }>(ch, `SELECT key_id, ${SPENT_SUMS} FROM usage_daily_account WHERE key_id IN {keys:Array(String)} GROUP BY key_id`, {
    keys,
  });
  const byKey = new Map(rows.map((r) => [r.key_id, r]));
  return new Map(keys.map((k) => [k, spentOf(byKey.get(k))]));
}
