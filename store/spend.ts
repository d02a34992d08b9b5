// What each key has spent, from the raw requests: the embedded router's spend ledger starts from it.
import { periodBucket } from '../governance/policy.ts';
import { dateTime64, queryRows, type ClickHouseClient } from './clickhouse.ts';

/** Each key's spend in all and in the current day, week and month (UTC), as the spend ledger's entries. */
export async function spentByKey(client: ClickHouseClient, now = Date.now()): Promise<[string, number][]> {
  const rows = await queryRows<{ key_id: string; usd: number; d: number; w: number; m: number }>(
    client,
    `SELECT key_id, sum(cost_usd + fee_usd) AS usd, sumIf(cost_usd + fee_usd, toDate(ts) = toDate({now:DateTime64(3)})) AS d,
            sumIf(cost_usd + fee_usd, toDate(ts) >= toMonday({now:DateTime64(3)})) AS w,
            sumIf(cost_usd + fee_usd, toDate(ts) >= toStartOfMonth({now:DateTime64(3)})) AS m
       FROM requests GROUP BY key_id`,
    { now: dateTime64(now) },
  );
  return rows.flatMap((r): [string, number][] => [
    [r.key_id, Number(r.usd)],
    [periodBucket(r.key_id, 'daily', now), Number(r.d)],
    [periodBucket(r.key_id, 'weekly', now), Number(r.w)],
    [periodBucket(r.key_id, 'monthly', now), Number(r.m)],
  ]);
}

/** Whether any request is recorded at all (an empty database has no figures worth computing ahead). */
export async function hasRequests(client: ClickHouseClient): Promise<boolean> {
  const [{ n }] = await queryRows<{ n: string }>(client, 'SELECT count() AS n FROM (SELECT 1 FROM requests LIMIT 1)');
  return Number(n) > 0;
}
