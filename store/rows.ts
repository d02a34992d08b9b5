// Telemetry events → ClickHouse rows, shared by the embedded writer, the Kafka consumer and the backfills.
// Rows go as TabSeparated text built straight from the events: building a row object per event and
// then JSON for it cost more CPU than everything else ingest does, and ClickHouse parses TSV faster than
// JSON (bench/ingest/stages.ts).
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { dateTime64 } from './clickhouse.ts';
import type { TSchema } from '@sinclair/typebox';
import { AttemptEventSchema, RequestEventSchema, type TelemetryEvent } from '../telemetry/event.ts';

/** Where a row came from in Kafka; absent in embedded mode (stored as 0, 0). */
export interface KafkaOrigin {
  partition: number;
  offset: number;
}

export type Table = 'requests' | 'attempts';

/** The order every writer inserts a batch's tables in: attempts before requests, so a request row that
 * can be read implies its attempts can (generation records). */
export const INSERT_ORDER = ['attempts', 'requests'] as const satisfies readonly Table[];

/** One table's rows, one TSV line each, in the order of `columns[table]`. */
export interface Rows {
  requests: string[];
  attempts: string[];
}

type Kind = 'text' | 'number' | 'bool' | 'time';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const SPECIAL = /[\\\t\n\r]/;
const text = (s: string) => (SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : s);

// The time as dateTime64 writes it; events of a batch fall within a few seconds, so the part up to the
// second is formatted once per second.
let cachedSecond = NaN;
let cachedPrefix = '';
const dateTime = (ms: number) => {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = dateTime64(second * 1000).slice(0, 19);
  }
  return `${cachedPrefix}.${String(ms - second * 1000).padStart(3, '0')}`;
};

/** The event's own fields, in the contract's order, and how each is written. */
function fieldsOf(schema: TSchema & { properties: Record<string, TSchema> }): [string, Kind][] {
  return Object.entries(schema.properties)
    .filter(([name]) => name !== 'kind' && name !== 'v')
    .map(([name, s]) => [name, name === 'ts' ? 'time' : s.type === 'boolean' ? 'bool' : s.type === 'string' || s.anyOf ? 'text' : 'number']);
}

type Line = (e: TelemetryEvent, partition: number, offsetNext: number) => string;

/**
 * One function per table that writes a whole line in a single expression, compiled from the contract's
 * fields: walking a field list per event and calling a writer for each cost 10.5 µs per event, the largest
 * share of ingest's own CPU (bench/ingest/stages.ts). Field names come from the schema, never from data.
 */
function compileLine(fields: [string, Kind][]): Line {
  const parts = fields.map(([name, kind]) => {
    const v = `e[${JSON.stringify(name)}]`;
    // `?? ''` / `?? 0`: the column's default, for optional fields an older router's events leave out.
    return kind === 'text' ? `text(${v} ?? '')` : kind === 'time' ? `dateTime(${v})` : kind === 'bool' ? `(${v} ? 'true' : 'false')` : `String(${v} ?? 0)`;
  });
  return new Function('text', 'dateTime', `return (e, partition, offsetNext) => ${[...parts, 'partition', 'offsetNext'].join(" + '\\t' + ")};`)(text, dateTime) as Line;
}

const fields = { requests: fieldsOf(RequestEventSchema), attempts: fieldsOf(AttemptEventSchema) };
const lines = { requests: compileLine(fields.requests), attempts: compileLine(fields.attempts) };

/** The columns each table's lines hold. */
export const columns: Record<Table, readonly string[]> = {
  requests: [...fields.requests.map(([name]) => name), 'kafka_partition', 'kafka_offset_next'],
  attempts: [...fields.attempts.map(([name]) => name), 'kafka_partition', 'kafka_offset_next'],
};

/** The table an event's row goes to. */
export const tableOf = (e: TelemetryEvent): Table => (e.kind === 'request' ? 'requests' : 'attempts');

/** One event's line in its table (`offsetNext` is Kafka's offset + 1; 0 and 0 when not from Kafka). */
export function lineOf(e: TelemetryEvent, partition = 0, offsetNext = 0): string {
  return e.kind === 'request' ? lines.requests(e, partition, offsetNext) : lines.attempts(e, partition, offsetNext);
}

/**
 * Lines waiting for one insert of a table: texts of one or more lines each (joined by newlines, no
 * trailing one), and how many lines they hold. The Kafka consumer joins each message's lines as soon as
 * they are built, so a batch waiting for its insert keeps a few texts per table, not thousands of lines
 * and the events behind them (those objects, all promoted while a batch was decoded whole, made garbage
 * collection the consumer's largest cost).
 */
export interface Block {
  texts: string[];
  lines: number;
}

/** Each event as a line of its table. */
export function toRows(events: readonly TelemetryEvent[], origins?: readonly KafkaOrigin[]): Rows {
  const rows: Rows = { requests: [], attempts: [] };
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const o = origins?.[i];
    // offset + 1 (Kafka's "next offset"), so 0 means "not from Kafka".
    const partition = o ? o.partition : 0;
    const offsetNext = o ? o.offset + 1 : 0;
    rows[tableOf(e)].push(lineOf(e, partition, offsetNext));
  }
  return rows;
}

/** One insert of a table's lines, or of a block's texts (the caller retries, with the same settings for
 * deduplication). */
export async function insertRows(client: ClickHouseClient, table: Table, texts: readonly string[], settings: Record<string, string | number> = {}): Promise<void> {
  if (texts.length === 0) return;
  await client.insert({
    table,
    columns: [...columns[table]] as [string, ...string[]],
    values: Readable.from([`${texts.join('\n')}\n`], { objectMode: false }),
    format: 'TabSeparated',
    clickhouse_settings: settings,
  });
}

/** Events written straight into the raw tables, attempts first (as ingest does): backfills and tests. */
export async function insertEvents(client: ClickHouseClient, events: readonly TelemetryEvent[], chunk = 50_000): Promise<void> {
  const rows = toRows(events);
  for (const table of INSERT_ORDER) {
    const lines = rows[table];
    for (let i = 0; i < lines.length; i += chunk) await insertRows(client, table, lines.slice(i, i + chunk));
  }
}
