// What each stage of the telemetry path costs per event, in this process: compressing Kafka messages
// (NDJSON, one message per 300 events), decoding them, building rows, and inserting them into chDB. Two
// stages are measured against a baseline in the same run, so the figures are ratios on a noisy machine:
// gzip at its fastest level against the default level, and the TabSeparated lines ingest writes against
// JSON rows (an object per event, then JSONEachRow).
// Usage: npx tsx bench/ingest/stages.ts [--events 100000]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { closeClickHouse, dateTime64, openClickHouse } from '../../store/clickhouse.ts';
import { migrate } from '../../store/migrate.ts';
import { insertRows, toRows } from '../../store/rows.ts';
import { decodeMessage, encodeEvents, type TelemetryEvent } from '../../telemetry/event.ts';
import { eventPair } from './events.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' } } });
const n = Number(values.events);
const now = Date.now();
const events: TelemetryEvent[] = [];
for (let i = 0; events.length < n; i++) events.push(...eventPair(i, now + (i % 1000)));
const origins = events.map((_, i) => ({ partition: 0, offset: i }));

/** CPU per event of `f` (all threads: chDB parses and writes on its own): the median of five calls after
 * one warm-up call (single calls varied by half between runs, with garbage collection landing anywhere). */
async function cpu(label: string, f: () => unknown | Promise<unknown>): Promise<number> {
  await f();
  const runs: { us: number; ms: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    const c = process.cpuUsage(c0);
    runs.push({ us: (c.user + c.system) / n, ms: performance.now() - t0 });
  }
  const { us, ms } = runs.sort((a, b) => a.us - b.us)[2];
  console.log(`${label.padEnd(44)} ${us.toFixed(2).padStart(6)} µs/event CPU, ${ms.toFixed(0).padStart(5)} ms (median of 5)`);
  return us;
}

const messages: Buffer[] = [];
for (let i = 0; i < n; i += 300) messages.push(Buffer.from(encodeEvents(events.slice(i, i + 300))));
const bytes = messages.reduce((s, m) => s + m.length, 0);
const gzipDefault = await cpu('gzip, default level (baseline)', () => messages.map((m) => gzipSync(m)));
const gzipFast = await cpu('gzip, fastest level', () => messages.map((m) => gzipSync(m, { level: constants.Z_BEST_SPEED })));
const ratio = (level: number) => bytes / messages.reduce((s, m) => s + gzipSync(m, { level }).length, 0);
console.log(
  `gzip: ${(bytes / n).toFixed(0)} bytes/event; compression ${ratio(constants.Z_DEFAULT_COMPRESSION).toFixed(1)}× at the default level, ${ratio(constants.Z_BEST_SPEED).toFixed(1)}× at the fastest; CPU ratio ${(gzipDefault / gzipFast).toFixed(2)}`,
);
const packed = messages.map((m) => gzipSync(m, { level: constants.Z_BEST_SPEED }));
await cpu('gunzip', () => packed.map((m) => gunzipSync(m)));
await cpu('decode + validate (NDJSON messages)', () => messages.flatMap((m) => decodeMessage(m)));

// The baseline: a row object per event, as ingest built them before (rest spread, time as text).
const objects = () => {
  const out: Record<string, unknown>[] = [];
  events.forEach((e, i) => {
    const { kind: _k, v: _v, ts, ...rest } = e;
    out.push({ ...rest, ts: dateTime64(ts), kafka_partition: 0, kafka_offset_next: origins[i].offset + 1 });
  });
  return out;
};
const jsonRows = await cpu('rows: objects (baseline)', objects);
const tsvRows = await cpu('rows: TabSeparated lines', () => toRows(events, origins));

const ch = await openClickHouse({ url: undefined, dataDir: mkdtempSync(join(tmpdir(), 'bench-stages-')) });
await migrate(ch, 400);
const objs = objects();
const byTable = { requests: objs.filter((_, i) => events[i].kind === 'request'), attempts: objs.filter((_, i) => events[i].kind === 'attempt') };
const jsonInsert = await cpu('insert: JSONEachRow (baseline)', async () => {
  for (const table of ['attempts', 'requests'] as const) await ch.insert({ table, values: byTable[table], format: 'JSONEachRow' });
});
const lines = toRows(events, origins);
const tsvInsert = await cpu('insert: TabSeparated', async () => {
  for (const table of ['attempts', 'requests'] as const) await insertRows(ch, table, lines[table]);
});
console.log(
  `rows + insert: ${(jsonRows + jsonInsert).toFixed(2)} → ${(tsvRows + tsvInsert).toFixed(2)} µs/event, ratio ${((jsonRows + jsonInsert) / (tsvRows + tsvInsert)).toFixed(2)}`,
);
await closeClickHouse(ch, true);
process.exit(0);
