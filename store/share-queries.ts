// Share of tokens over time by author, category or model, over any span of whole days, from the daily
// rollup (usage_daily_model, kept beyond the raw rows' retention): tokens of answered requests, the
// leaderboards' own count.
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './clickhouse.ts';

export type ShareBy = 'author' | 'category' | 'model';
export type ShareBucket = 'day' | 'week' | 'month';

const KEY: Record<ShareBy, string> = { author: 'author', category: 'category', model: 'model' };
const BUCKET: Record<ShareBucket, string> = { day: 'day', week: 'toMonday(day)', month: 'toStartOfMonth(day)' };

/** Tokens per bucket and key over the days [from, to] (YYYY-MM-DD, both included). */
export async function tokensOverTime(
  client: ClickHouseClient,
  q: { by: ShareBy; bucket: ShareBucket; from: string; to: string; category: string | null },
): Promise<{ t: string; key: string; tokens: number }[]> {
  const rows = await queryRows<{ t: string; key: string; tokens: string }>(
    client,
    `SELECT toString(${BUCKET[q.bucket]}) AS t, ${KEY[q.by]} AS key, sum(tokens_prompt + tokens_completion) AS tokens
       FROM usage_daily_model
      WHERE day >= toDate({from:String}) AND day <= toDate({to:String}) AND model != ''
        AND ({category:String} = '' OR category = {category:String})
      GROUP BY t, key HAVING tokens > 0 ORDER BY t, key`,
    { from: q.from, to: q.to, category: q.category ?? '' },
  );
  return rows.map((r) => ({ t: r.t, key: r.key, tokens: Number(r.tokens) }));
}
