// Revealed preference from each account's weekly usage, computed inside ClickHouse in one pass: each
// account's main model per week (most tokens; ties to the first name), retention of each model's users 1, 2
// and 4 weeks later, the week-to-week flows between main models, and pairwise outcomes for Bradley–Terry.
// An outcome is read from behaviour, not opinion: an account whose main was A and that moved to B and
// stayed there (or has no later week to tell) says B beats A; one that tried B beside A and kept A says A
// beats B. Done in SQL because an account × week × model row set is millions of rows at tens of millions of
// requests: shipping it to JavaScript cost a minute. test/helpers/revealed-oracle.ts is the same logic
// written plainly over events, and the tests hold the two equal.
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../../store/clickhouse.ts';
import { createHash } from 'node:crypto';
import { DAY_MS, isoDay, mondayOf, WEEK_MS } from '../../core/time.ts';
import { METHOD, type PairCount } from './bradley-terry.ts';

export interface Retention {
  model: string;
  cohort_users: number;
  retention: { w1: number | null; w2: number | null; w4: number | null };
}

export interface Flow {
  from: string;
  to: string;
  accounts: number;
}

export interface Revealed {
  accounts: number;
  /** Per model, the distinct accounts behind its outcomes. */
  outcomeAccounts: Map<string, number>;
  retention: Retention[];
  flows: Flow[];
  pairs: PairCount[];
}

// One row per account and week with its main model and every model used; the window reads the account's
// next four weeks with data (weeks are distinct per account, so week + 7k is at most k rows ahead). Then
// one row per model used that week, which feeds the groupings: per model, its users and how many of them
// still used it 1, 2, 4 weeks later (counted only where that week is in the period); per pair of models
// and cluster of accounts, the outcomes (B beats A) and their accounts; per model, the accounts behind its
// outcomes; per pair, the flows from one week's main to the next's. An outcome row is repeated once per
// side (player) for the per-model accounts; every other measure counts its first copy only. Read from the
// weekly rollup (migration 12), so the cost follows accounts × weeks, not requests.
const FACTS = `
WITH toDate({last:String}) AS last
SELECT m, win_a, win_b, cluster, flow_a, flow_b, player, countIf(first) AS n,
       sumIf(week + 7 <= last, first) AS of1, sumIf(week + 7 <= last AND has_next AND has(u1, m), first) AS kept1,
       sumIf(week + 14 <= last, first) AS of2, sumIf(week + 14 <= last AND has(used2, m), first) AS kept2,
       sumIf(week + 28 <= last, first) AS of4, sumIf(week + 28 <= last AND has(used4, m), first) AS kept4,
       sumIf(m = main AND nth = 1, first) AS starts, uniqExact(account) AS accounts
FROM (
  SELECT *, m,
         has_next AND m1 = main AND m != main AS kept_main,
         m = main AND has_next AND m1 != main AND (w2 != week + 14 OR m2 = m1) AS moved,
         multiIf(kept_main, main, moved, m1, '') AS win_a,
         multiIf(kept_main, m, moved, main, '') AS win_b,
         if(win_a = '', 0, halfMD5(account) % {clusters:UInt32}) AS cluster,
         if(m = main AND has_next, main, '') AS flow_a,
         if(m = main AND has_next, m1, '') AS flow_b
  FROM (
    SELECT account, week, main, used,
           leadInFrame(week, 1) OVER w AS w1, leadInFrame(main, 1) OVER w AS m1, leadInFrame(used, 1) OVER w AS u1,
           leadInFrame(week, 2) OVER w AS w2, leadInFrame(main, 2) OVER w AS m2, leadInFrame(used, 2) OVER w AS u2,
           leadInFrame(week, 3) OVER w AS w3, leadInFrame(used, 3) OVER w AS u3,
           leadInFrame(week, 4) OVER w AS w4, leadInFrame(used, 4) OVER w AS u4,
           row_number() OVER (PARTITION BY account ORDER BY week) AS nth,
           w1 = week + 7 AS has_next,
           multiIf(w1 = week + 14, u1, w2 = week + 14, u2, []) AS used2,
           multiIf(w1 = week + 28, u1, w2 = week + 28, u2, w3 = week + 28, u3, w4 = week + 28, u4, []) AS used4
    FROM (
      SELECT account, week, argMin(model, (-toInt64(tokens), model)) AS main, groupArray(model) AS used
      FROM (
        SELECT account_id AS account, week, model, sum(tokens) AS tokens
          FROM account_week_model
         WHERE week >= toDate({from:String}) AND week < toDate({to:String})
           AND ({category:String} = '' OR category = {category:String})
         GROUP BY account, week, model)
      GROUP BY account, week)
    WINDOW w AS (PARTITION BY account ORDER BY week ROWS BETWEEN CURRENT ROW AND 4 FOLLOWING))
  ARRAY JOIN used AS m)
ARRAY JOIN if(win_a = '', [''], [win_a, win_b]) AS player, if(win_a = '', [1], [1, 0]) AS first
GROUP BY GROUPING SETS ((m), (win_a, win_b, cluster), (player), (flow_a, flow_b))`;

/** Weeks of each revealed-preference period, the current week included. */
export const PREFERENCE_WEEKS = { month: 5, quarter: 13, year: 52 } as const;
export type PreferencePeriod = keyof typeof PREFERENCE_WEEKS;

/** The Monday a period that ends with the week holding `now` starts on. */
export const periodStart = (period: PreferencePeriod, now: number): number => mondayOf(now) - (PREFERENCE_WEEKS[period] - 1) * WEEK_MS;

/** A row of one grouping set: the keys of the other sets are empty (model names never are). */
interface FactRow {
  m: string;
  win_a: string;
  win_b: string;
  cluster: number;
  flow_a: string;
  flow_b: string;
  player: string;
  n: string;
  of1: string;
  kept1: string;
  of2: string;
  kept2: string;
  of4: string;
  kept4: string;
  starts: string;
  accounts: string;
}

/** The cluster an account's outcomes are resampled with: ClickHouse's halfMD5 (big-endian MD5 head) mod the clusters. */
export function accountCluster(account: string): number {
  return Number(createHash('md5').update(account).digest().readBigUInt64BE(0) % BigInt(METHOD.clusters));
}

/** Weekly revealed preference over the calendar weeks from the Monday `fromMs` to the week holding `toMs - 1`. */
export async function revealedPreference(clickhouse: ClickHouseClient, fromMs: number, toMs: number, category: string | null): Promise<Revealed> {
  const lastMonday = fromMs + Math.floor((toMs - 1 - fromMs) / (7 * DAY_MS)) * 7 * DAY_MS;
  const rows = await queryRows<FactRow>(clickhouse, FACTS, {
    from: isoDay(fromMs),
    to: isoDay(lastMonday + 7 * DAY_MS),
    last: isoDay(lastMonday),
    category: category ?? '',
    clusters: METHOD.clusters,
  });
  const rate = (kept: string, of: string) => (Number(of) === 0 ? null : Number(kept) / Number(of));
  const perModel = rows.filter((r) => r.m !== '');
  return {
    accounts: perModel.reduce((n, r) => n + Number(r.starts), 0),
    outcomeAccounts: new Map(rows.filter((r) => r.player !== '').map((r) => [r.player, Number(r.accounts)])),
    retention: perModel
      .map((r) => ({ model: r.m, cohort_users: Number(r.n), retention: { w1: rate(r.kept1, r.of1), w2: rate(r.kept2, r.of2), w4: rate(r.kept4, r.of4) } }))
      .sort((x, y) => y.cohort_users - x.cohort_users || x.model.localeCompare(y.model)),
    flows: rows
      .filter((r) => r.flow_a !== '')
      .map((r) => ({ from: r.flow_a, to: r.flow_b, accounts: Number(r.n) }))
      .sort((x, y) => y.accounts - x.accounts || x.from.localeCompare(y.from) || x.to.localeCompare(y.to)),
    pairs: rows.filter((r) => r.win_a !== '').map((r) => ({ winner: r.win_a, loser: r.win_b, count: Number(r.n), cluster: Number(r.cluster), accounts: Number(r.accounts) })),
  };
}
