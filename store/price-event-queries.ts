// What a price change did, read from the catalog's own history and the rollups (never raw requests): each
// model's share of tokens in the 48 whole hours before and after the change's hour (usage_hourly, the
// rankings' own count), and who moved: accounts that used the model the week before the change against
// newcomers in the change's week and the next, and how many newcomers still used it the week after that
// (a lasting switch) rather than only trying it (account_week_model).
import type { ClickHouseClient } from '@clickhouse/client';
import { isoDay, mondayOf, WEEK_MS } from '../core/time.ts';
import { dateTime64, queryRows } from './clickhouse.ts';

export interface PriceChange {
  model: string;
  endpoint_id: string;
  at: string;
  ms: number;
  price_prompt: number;
  price_completion: number;
}

export async function priceChanges(ch: ClickHouseClient, fromMs: number, toMs: number): Promise<PriceChange[]> {
  const rows = await queryRows<Omit<PriceChange, 'ms'> & { ms: string }>(
    ch,
    `SELECT model, endpoint_id, formatDateTime(ts, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS at, toUnixTimestamp64Milli(ts) AS ms, price_prompt, price_completion
       FROM catalog_history WHERE change = 'price' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} ORDER BY ts, endpoint_id`,
    { from: dateTime64(fromMs), to: dateTime64(toMs) },
  );
  return rows.map((r) => ({ ...r, ms: Number(r.ms) }));
}

export interface ShareAround {
  model: string;
  before: number;
  after: number;
}

/** Every model's share of tokens in the 48 hours before the hour of `atMs` and the 48 from it. */
export async function sharesAround(ch: ClickHouseClient, atMs: number, category: string | null): Promise<ShareAround[]> {
  const rows = await queryRows<{ model: string; before: string; after: string }>(
    ch,
    `WITH toStartOfHour({at:DateTime64(3, 'UTC')}) AS h
     SELECT model, sumIf(tokens_prompt + tokens_completion, hour < h) AS before, sumIf(tokens_prompt + tokens_completion, hour >= h) AS after
       FROM usage_hourly
      WHERE hour >= h - INTERVAL 48 HOUR AND hour < h + INTERVAL 48 HOUR AND ({category:String} = '' OR category = {category:String})
      GROUP BY model HAVING before + after > 0`,
    { at: dateTime64(atMs), category: category ?? '' },
  );
  const total = (k: 'before' | 'after') =>
    Math.max(
      1,
      rows.reduce((n, r) => n + Number(r[k]), 0),
    );
  const [before, after] = [total('before'), total('after')];
  return rows
    .map((r) => ({ model: r.model, before: Number(r.before) / before, after: Number(r.after) / after }))
    .sort((x, y) => y.before - x.before || x.model.localeCompare(y.model));
}

export interface Adopters {
  /** Accounts that used the model in the week before the change's week. */
  users_before: number;
  /** Of those, how many used it in the change's week or the next. */
  users_kept: number;
  /** Accounts that used it in the change's week or the next without having used it the week before. */
  newcomers: number;
  /** Newcomers still using it in the second week after the change's week; null until that week is over. */
  newcomers_lasting: number | null;
  /** Newcomers gone again by then (trials); null until that week is over. */
  newcomers_trial: number | null;
  /** Shares of all tokens in the change's week and the next: from earlier users, and from newcomers. */
  token_share: { earlier_users: number; newcomers: number };
}

export async function adoptersOf(ch: ClickHouseClient, model: string, atMs: number, category: string | null, nowMs: number): Promise<Adopters> {
  const week = mondayOf(atMs);
  const [r] = await queryRows<{ n_before: string; n_kept: string; n_new: string; n_lasting: string; t_old: string; t_new: string; t_all: string }>(
    ch,
    `WITH toDate({w:String}) AS w
     SELECT countIf(before) AS n_before, countIf(before AND during > 0) AS n_kept, countIf(NOT before AND during > 0) AS n_new,
            countIf(NOT before AND during > 0 AND later) AS n_lasting,
            sumIf(during, before) AS t_old, sumIf(during, NOT before) AS t_new,
            (SELECT sum(tokens) FROM account_week_model WHERE week IN (w, w + 7) AND ({category:String} = '' OR category = {category:String})) AS t_all
       FROM (SELECT account_id, sumIf(tokens, week = w - 7) > 0 AS before, sumIf(tokens, week IN (w, w + 7)) AS during, sumIf(tokens, week = w + 14) > 0 AS later
               FROM account_week_model
              WHERE model = {model:String} AND week >= w - 7 AND week <= w + 14 AND ({category:String} = '' OR category = {category:String})
              GROUP BY account_id)`,
    { w: isoDay(week), model, category: category ?? '' },
  );
  const known = nowMs >= week + 3 * WEEK_MS;
  const all = Math.max(1, Number(r.t_all));
  const newcomers = Number(r.n_new);
  return {
    users_before: Number(r.n_before),
    users_kept: Number(r.n_kept),
    newcomers,
    newcomers_lasting: known ? Number(r.n_lasting) : null,
    newcomers_trial: known ? newcomers - Number(r.n_lasting) : null,
    token_share: { earlier_users: Number(r.t_old) / all, newcomers: Number(r.t_new) / all },
  };
}
