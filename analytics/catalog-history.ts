// Every price and availability change of the catalog, recorded when a process with ClickHouse starts:
// what is served now is compared with the last recorded state of each endpoint, and only differences
// are written. Price-event analysis reads this table.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Catalog } from '../catalog/catalog.ts';
import { dateTime64 as dateTime, queryRows } from '../store/clickhouse.ts';

interface State {
  endpoint_id: string;
  provider: string;
  model: string;
  price_prompt: number;
  price_completion: number;
  context_length: number;
  available: boolean;
}

/** A price an endpoint had from a moment in the past on (a simulated population's price change). */
export interface PastPrice {
  ts: number;
  endpointId: string;
  provider: string;
  model: string;
  pricePrompt: number;
  priceCompletion: number;
  contextLength: number;
}

/** Price changes this process did not see happen, written as they were, so price events cover them. */
export async function recordPastPrices(client: ClickHouseClient, prices: readonly PastPrice[]): Promise<void> {
  if (prices.length === 0) return;
  const values = prices.map((p) => ({
    ts: dateTime(p.ts),
    endpoint_id: p.endpointId,
    provider: p.provider,
    model: p.model,
    price_prompt: p.pricePrompt,
    price_completion: p.priceCompletion,
    context_length: p.contextLength,
    available: true,
    change: 'price',
  }));
  await client.insert({ table: 'catalog_history', values, format: 'JSONEachRow' });
}

export async function recordCatalog(client: ClickHouseClient, catalog: Catalog, now = Date.now()): Promise<number> {
  const last = await queryRows<State>(
    client,
    `SELECT endpoint_id, argMax(provider, ts) AS provider, argMax(model, ts) AS model, argMax(price_prompt, ts) AS price_prompt,
            argMax(price_completion, ts) AS price_completion, argMax(context_length, ts) AS context_length, argMax(available, ts) AS available
       FROM catalog_history GROUP BY endpoint_id`,
  );
  const known = new Map(last.map((s) => [s.endpoint_id, s]));
  const rows: (State & { ts: string; change: string })[] = [];
  const seen = new Set<string>();
  for (const e of catalog.endpoints) {
    seen.add(e.id);
    const state: State = {
      endpoint_id: e.id,
      provider: e.provider,
      model: e.model,
      price_prompt: e.pricePrompt,
      price_completion: e.priceCompletion,
      context_length: e.contextLength,
      available: true,
    };
    const before = known.get(e.id);
    const change = !before
      ? 'listed'
      : !before.available
        ? 'relisted'
        : before.price_prompt !== e.pricePrompt || before.price_completion !== e.priceCompletion
          ? 'price'
          : before.context_length !== e.contextLength
            ? 'context'
            : undefined;
    if (change) rows.push({ ...state, ts: dateTime(now), change });
  }
  for (const before of last) {
    if (!seen.has(before.endpoint_id) && before.available) rows.push({ ...before, available: false, ts: dateTime(now), change: 'delisted' });
  }
  if (rows.length > 0) await client.insert({ table: 'catalog_history', values: rows, format: 'JSONEachRow' });
  return rows.length;
}
