// An account's own use per category and model over a window (owner only): tokens by kind and what the
// providers charged, the base of its recommendations.
import type { ClickHouseClient } from '@clickhouse/client';
import { dateTime64, queryRows } from './clickhouse.ts';

export interface ModelUse {
  category: string;
  model: string;
  tokens_prompt: number;
  tokens_completion: number;
  cost_usd: number;
}

export async function useByCategory(ch: ClickHouseClient, account: string, fromMs: number, toMs: number): Promise<ModelUse[]> {
  const rows = await queryRows<{ category: string; model: string; tp: string; tc: string; nusd: string }>(
    ch,
    `SELECT category, served_model AS model, sum(tokens_prompt) AS tp, sum(tokens_completion) AS tc, sum(toUInt64(round(cost_usd * 1e9))) AS nusd
       FROM requests
      WHERE account_id = {account:String} AND served_model != '' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
      GROUP BY category, model ORDER BY category, model`,
    { account, from: dateTime64(fromMs), to: dateTime64(toMs) },
  );
  return rows.map((r) => ({ category: r.category, model: r.model, tokens_prompt: Number(r.tp), tokens_completion: Number(r.tc), cost_usd: Number(r.nusd) / 1e9 }));
}
