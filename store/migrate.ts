import type { ClickHouseClient } from '@clickhouse/client';
import { MIGRATIONS, RAW_TABLES, type Migration } from './migrations.ts';
import { queryRows } from './clickhouse.ts';

/** Apply every migration not yet recorded, in order; then set the retention TTL if it changed. */
export async function migrate(client: ClickHouseClient, retentionDays: number, migrations: Migration[] = MIGRATIONS): Promise<number[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version`,
  });
  const done = new Set((await queryRows<{ version: number }>(client, 'SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements) await client.command({ query: statement });
    await client.insert({ table: 'schema_migrations', values: [{ version: m.version, name: m.name }], format: 'JSONEachRow' });
    applied.push(m.version);
  }
  await applyRetention(client, retentionDays);
  return applied;
}

/** Retention is configuration, not schema: it is (re)applied at start when it differs from what is in force. */
async function applyRetention(client: ClickHouseClient, days: number): Promise<void> {
  for (const table of RAW_TABLES) {
    const [row] = await queryRows<{ q: string }>(client, 'SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = {t:String}', {
      t: table,
    });
    if (!row) continue;
    const wanted = `toIntervalDay(${days})`;
    if (row.q.includes(wanted)) continue;
    // Integer literal only (validated config), so no input reaches this SQL as text.
    await client.command({ query: `ALTER TABLE ${table} MODIFY TTL toDateTime(ts) + INTERVAL ${Math.trunc(days)} DAY`, clickhouse_settings: { materialize_ttl_after_modify: 0 } });
  }
}
