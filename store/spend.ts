// What each key has spent, from the raw requests: the embedded router's spend ledger starts from it.
import { queryRows, type ClickHouseClient } from './clickhouse.ts';

export async function spentByKey(client: ClickHouseClient): Promise<[string, number][]> {
  const rows = await queryRows<{ key_id: string; usd: number }>(client, 'SELECT key_id, sum(cost_usd + fee_usd) AS usd FROM requests GROUP BY key_id');
  return rows.map((r) => [r.key_id, Number(r.usd)]);
}

/** Whether any request is recorded at all (an empty database has no figures worth computing ahead). */
export async function hasRequests(client: ClickHouseClient): Promise<boolean> {
  const [{ n }] = await queryRows<{ n: string }>(client, 'SELECT count() AS n FROM (SELECT 1 FROM requests LIMIT 1)');
  return Number(n) > 0;
}
