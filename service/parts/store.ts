// ClickHouse for the parts that need it (ingest, analytics, or any role given CLICKHOUSE_URL): opened,
// migrated, the catalog's changes recorded, and closed last at a stop.
import type { Catalog } from '../../catalog/catalog.ts';
import { recordCatalog } from '../../analytics/catalog-history.ts';
import { closeClickHouse, openClickHouse, type ClickHouseClient } from '../../store/clickhouse.ts';
import { migrate } from '../../store/migrate.ts';
import type { Assembly } from './assembly.ts';

/** How long a stop waits for reads still running in the analytics engine. */
export const SHUTDOWN_READ_LIMIT_MS = 30_000;

export async function startStore(a: Assembly, fullCatalog: Catalog): Promise<ClickHouseClient | undefined> {
  const { config } = a;
  if (!a.ingests && !a.analyzes && !config.clickhouseUrl) return undefined;
  const clickhouse = await openClickHouse({ url: config.clickhouseUrl, dataDir: config.dataDir });
  await migrate(clickhouse, config.retentionDays);
  const changes = await recordCatalog(clickhouse, fullCatalog);
  if (changes > 0) a.logger.info({ changes }, 'catalog changes recorded');
  a.onStop('engines', 'ClickHouse', () => closeClickHouse(clickhouse, config.clickhouseUrl === undefined), SHUTDOWN_READ_LIMIT_MS);
  return clickhouse;
}
