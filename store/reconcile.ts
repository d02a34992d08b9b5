// Raw rows and the aggregates fed from them are written as separate parts: a process killed between the
// two leaves raw rows whose aggregate rows never landed, and the replay after restart rightly skips them
// (ClickHouse already holds the raw rows). So an ingest process, before it consumes, compares the usage
// aggregates with the raw rows of the recent window and inserts what is missing; SummingMergeTree adds
// it. Limits: only missing amounts are repaired (a surplus cannot be subtracted from these unsigned sums),
// only within the window, and endpoint_minute's latency digests are not repaired.
import type { ClickHouseClient } from '@clickhouse/client';
import { MODEL_OF_REQUEST, USAGE_MEASURE_NAMES as MEASURES, USAGE_RESUM as sums, USAGE_SUMS } from './migrations.ts';
import { dateTime64 } from './clickhouse.ts';

const delta = MEASURES.map((m) => `if(r.${m} > a.${m}, r.${m} - a.${m}, 0) AS ${m}`).join(', ');

const TARGETS = [
  {
    table: 'usage_daily_account',
    keys: ['day', 'account_id', 'key_id', 'model', 'provider'],
    raw: `toDate(ts) AS day, account_id, key_id, ${MODEL_OF_REQUEST} AS model, provider`,
    since: "day >= toDate({since:DateTime64(3, 'UTC')})",
  },
  {
    table: 'usage_hourly',
    keys: ['hour', 'model', 'author', 'provider', 'category'],
    raw: `toStartOfHour(ts) AS hour, ${MODEL_OF_REQUEST} AS model, splitByChar('/', model)[1] AS author, provider, category`,
    since: "hour >= toStartOfHour({since:DateTime64(3, 'UTC')})",
  },
  {
    table: 'usage_daily_model',
    keys: ['day', 'model', 'author', 'category'],
    raw: `toDate(ts) AS day, ${MODEL_OF_REQUEST} AS model, splitByChar('/', model)[1] AS author, category`,
    since: "day >= toDate({since:DateTime64(3, 'UTC')})",
  },
];

/** Insert into each usage aggregate what the raw rows since `sinceMs` hold and it lacks; returns rows added. */
export async function reconcileUsage(client: ClickHouseClient, sinceMs: number): Promise<number> {
  let added = 0;
  for (const t of TARGETS) {
    const keys = t.keys.join(', ');
    const query = `
      SELECT ${t.keys.map((k) => `r.${k} AS ${k}`).join(', ')}, ${delta}
        FROM (SELECT ${t.raw}, ${USAGE_SUMS} FROM requests WHERE ts >= {since:DateTime64(3, 'UTC')} GROUP BY ${keys}) AS r
        LEFT JOIN (SELECT ${keys}, ${sums} FROM ${t.table} WHERE ${t.since} GROUP BY ${keys}) AS a USING (${keys})
       WHERE r.requests > a.requests`;
    const before = await client.query({ query: `SELECT count() AS n FROM (${query})`, query_params: { since: dateTime64(sinceMs) }, format: 'JSONEachRow' });
    const n = Number(((await before.json()) as { n: string }[])[0].n);
    if (n === 0) continue;
    await client.command({ query: `INSERT INTO ${t.table} (${keys}, ${MEASURES.join(', ')}) ${query}`, query_params: { since: dateTime64(sinceMs) } });
    added += n;
  }
  return added;
}
