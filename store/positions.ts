// Where ingest stands in each source, as ClickHouse holds it: the marks every row stores (its partition and
// next offset) and the event ids of replayed copies. The exactly-once rules that use them: ingest/batch.ts.
import { dateTime64, queryRows, type ClickHouseClient } from './clickhouse.ts';
import type { TelemetryEvent } from '../telemetry/event.ts';

export interface HighWater {
  requests: number;
  attempts: number;
}

/** How far ClickHouse already holds a source (a Kafka partition or a router's log), per table. */
export async function storedHighWater(client: ClickHouseClient, partition: number): Promise<HighWater> {
  const [row] = await queryRows<{ r: string; a: string }>(
    client,
    `SELECT (SELECT max(kafka_offset_next) FROM requests WHERE kafka_partition = {p:UInt16}) AS r,
            (SELECT max(kafka_offset_next) FROM attempts WHERE kafka_partition = {p:UInt16}) AS a`,
    { p: partition },
  );
  return { requests: Number(row.r), attempts: Number(row.a) };
}

/** Which of these events ClickHouse already holds (asked only for copies replayed from a spool). */
export async function storedEventIds(client: ClickHouseClient, events: readonly TelemetryEvent[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const ts = events.map((e) => e.ts);
  const params = { ids: events.map((e) => e.event_id), from: dateTime64(Math.min(...ts)), to: dateTime64(Math.max(...ts)) };
  const rows = await queryRows<{ id: string }>(
    client,
    `SELECT toString(event_id) AS id FROM requests WHERE ts BETWEEN {from:DateTime64(3, 'UTC')} AND {to:DateTime64(3, 'UTC')} AND toString(event_id) IN {ids:Array(String)}
     UNION ALL
     SELECT toString(event_id) AS id FROM attempts WHERE ts BETWEEN {from:DateTime64(3, 'UTC')} AND {to:DateTime64(3, 'UTC')} AND toString(event_id) IN {ids:Array(String)}`,
    params,
  );
  return new Set(rows.map((r) => r.id));
}
