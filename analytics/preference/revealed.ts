// Revealed preference from each account's weekly usage, computed inside ClickHouse in one pass: each
// account's main model per week (most tokens; ties to the first name), retention of each model's users 1, 2
// and 4 weeks later, the week-to-week flows between main models, and pairwise outcomes for Bradley–Terry.
// An outcome is read from behaviour, not opinion: an account whose main was A and that moved to B and
// stayed there (or has no later week to tell) says B beats A; one that tried B beside A and kept A says A
// beats B. Done in SQL because an account × week × model row set is millions of rows at tens of millions of
// requests: shipping it to JavaScript cost a minute. test/helpers/revealed-oracle.ts is the same logic
// written plainly over events, and the tests hold the two equal.
import type { ClickHouseClient } from '@clickhouse/client';
import { dateTime64, queryRows } from '../../store/clickhouse.ts';
import type { PairCount } from './bradley-terry.ts';

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
  retention: Retention[];
  flows: Flow[];
  pairs: PairCount[];
}

const DAY_MS = 86_400_000;

// One row per account and week with its main model and every model used; the window reads the account's
// next four weeks with data (weeks are distinct per account, so week + 7k is at most k rows ahead). Then
// one row per model used that week, which feeds three groupings at once: per model, its users and how
// many of them still used it 1, 2, 4 weeks later (counted only where that week is in the period); per
// pair of models, the outcomes (B beats A); per pair, the flows from one week's main to the next's. The
// main model's row carries the account-week's own facts (flow, move, first week of the account).
const FACTS = `
WITH toDate({last:String}) AS last
SELECT m, win_a, win_b, flow_a, flow_b, count() AS n,
       sum(week + 7 <= last) AS of1, sum(week + 7 <= last AND has_next AND has(u1, m)) AS kept1,
       sum(week + 14 <= last) AS of2, sum(week + 14 <= last AND has(used2, m)) AS kept2,
       sum(week + 28 <= last) AS of4, sum(week + 28 <= last AND has(used4, m)) AS kept4,
       sum(m = main AND nth = 1) AS accounts
FROM (
  SELECT *, m,
         has_next AND m1 = main AND m != main AS kept_main,
         m = main AND has_next AND m1 != main AND (w2 != week + 14 OR m2 = m1) AS moved,
         multiIf(kept_main, main, moved, m1, '') AS win_a,
         multiIf(kept_main, m, moved, main, '') AS win_b,
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
        SELECT account_id AS account, toMonday(ts) AS week, served_model AS model, sum(tokens_prompt + tokens_completion) AS tokens
          FROM requests
         WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND status = 200 AND served_model != ''
           AND ({category:String} = '' OR category = {category:String})
         GROUP BY account, week, model)
      GROUP BY account, week)
    WINDOW w AS (PARTITION BY account ORDER BY week ROWS BETWEEN CURRENT ROW AND 4 FOLLOWING))
  ARRAY JOIN used AS m)
GROUP BY GROUPING SETS ((m), (win_a, win_b), (flow_a, flow_b))`;

/** A row of one grouping set: the keys of the other sets are empty (model names never are). */
interface FactRow {
  m: string;
  win_a: string;
  win_b: string;
  flow_a: string;
  flow_b: string;
  n: string;
  of1: string;
  kept1: string;
  of2: string;
  kept2: string;
  of4: string;
  kept4: string;
  accounts: string;
}

/** Weekly revealed preference over the calendar weeks from the Monday `fromMs` to `toMs` (exclusive). */
export async function revealedPreference(clickhouse: ClickHouseClient, fromMs: number, toMs: number, category: string | null): Promise<Revealed> {
  const lastMonday = fromMs + Math.floor((toMs - 1 - fromMs) / (7 * DAY_MS)) * 7 * DAY_MS;
  const rows = await queryRows<FactRow>(clickhouse, FACTS, {
    from: dateTime64(fromMs),
    to: dateTime64(toMs),
    last: new Date(lastMonday).toISOString().slice(0, 10),
    category: category ?? '',
  });
  const rate = (kept: string, of: string) => (Number(of) === 0 ? null : Number(kept) / Number(of));
  const perModel = rows.filter((r) => r.m !== '');
  return {
    accounts: perModel.reduce((n, r) => n + Number(r.accounts), 0),
    retention: perModel
      .map((r) => ({ model: r.m, cohort_users: Number(r.n), retention: { w1: rate(r.kept1, r.of1), w2: rate(r.kept2, r.of2), w4: rate(r.kept4, r.of4) } }))
      .sort((x, y) => y.cohort_users - x.cohort_users || x.model.localeCompare(y.model)),
    flows: rows
      .filter((r) => r.flow_a !== '')
      .map((r) => ({ from: r.flow_a, to: r.flow_b, accounts: Number(r.n) }))
      .sort((x, y) => y.accounts - x.accounts || x.from.localeCompare(y.from) || x.to.localeCompare(y.to)),
    pairs: rows.filter((r) => r.win_a !== '').map((r) => ({ winner: r.win_a, loser: r.win_b, count: Number(r.n) })),
  };
}
