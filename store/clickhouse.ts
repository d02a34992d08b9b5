// The one module that opens ClickHouse. Cluster mode talks HTTP to a server; embedded mode plugs chDB in
// as the same client's connection, so every query in the project is the same SQL in both modes. The
// chDB hook is experimental upstream: keeping it here means a change there touches this file only.
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type { ClickHouseClient };

export interface ClickHouseOptions {
  url: string | undefined;
  dataDir: string;
}

export async function openClickHouse(opts: ClickHouseOptions): Promise<ClickHouseClient> {
  if (opts.url !== undefined) {
    return createClient({ url: opts.url, clickhouse_settings: { date_time_input_format: 'best_effort' } });
  }
  const path = join(opts.dataDir, 'chdb');
  mkdirSync(path, { recursive: true });
  const { createChdbConnection } = await import('chdb/connection');
  // The connection option is chdb's extension of the client's config; its type is not in the public one.
  return createClient({ connection: createChdbConnection({ path }) } as unknown as Parameters<typeof createClient>[0]);
}

/** Close the client and, in embedded mode, wait until chDB has no query running. */
export async function closeClickHouse(client: ClickHouseClient, embedded: boolean): Promise<void> {
  await client.close();
  if (embedded) {
    const chdb = (await import('chdb')) as unknown as { drainPending?: () => Promise<void>; default?: { drainPending?: () => Promise<void> } };
    await (chdb.drainPending ?? chdb.default?.drainPending)?.();
  }
}

export async function queryRows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** Milliseconds since the epoch as DateTime64(3) text ('YYYY-MM-DD hh:mm:ss.sss', UTC), the form the
 * basic input format and typed parameters both read. */
export const dateTime64 = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
