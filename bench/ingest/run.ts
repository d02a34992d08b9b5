// bench/ingest: a steady stream of realistic events into a real Kafka broker (the router's own KafkaSink,
// in its own process) and the ingest consumer (this process) into ClickHouse (chDB): sustained end-to-end
// rate, freshness (emission → queryable), and router-side emission cost.
// Usage: npm run bench:ingest -- [--rate 100000] [--seconds 20]   (KAFKA_BROKERS to use a running broker)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { closeClickHouse, openClickHouse, queryRows } from '../../store/clickhouse.ts';
import { migrate } from '../../store/migrate.ts';
import { createLogger } from '../../core/logger.ts';
import { IngestConsumer } from '../../ingest/consumer.ts';
import { createKafka, ensureTopics, topicNames } from '../../telemetry/kafka.ts';
import { emitCost } from './emit-cost.ts';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '100000' }, seconds: { type: 'string', default: '20' }, partitions: { type: 'string', default: '4' } },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const script = join(import.meta.dirname, '..', '..', 'scripts', 'kafka.sh');
const brokerEnv = { ...process.env, KAFKA_STATE_DIR: mkdtempSync(join(tmpdir(), 'bench-kafka-')) };
const brokers = process.env.KAFKA_BROKERS ?? /KAFKA_BROKERS=(\S+)/.exec(execFileSync(script, ['start', '19950'], { env: brokerEnv, encoding: 'utf8' }))![1];
const log = createLogger('warn');
const topics = topicNames(`bench-${Date.now()}.`);
const kafka = createKafka(brokers.split(','), 'bench-ingest', log);
await ensureTopics(kafka, topics, Number(values.partitions));

const ch = await openClickHouse({ url: undefined, dataDir: mkdtempSync(join(tmpdir(), 'bench-ch-')) });
await migrate(ch, 400);
let inserts = 0;
const consumer = new IngestConsumer(kafka, ch, { groupId: `${topics.requests}-ingest`, topics, lingerMs: 200, maxRows: 400_000 }, log, {
  onInsert: () => void inserts++,
  onInsertError: () => undefined,
  onBatch: () => undefined,
  onLag: () => undefined,
  onDeadLetter: () => undefined,
  onDuplicate: () => undefined,
});
await consumer.start();

const emit = emitCost(200_000);
const producer = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'producer.ts'), brokers, topics.requests, String(rate), String(seconds)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let producerOut = '';
producer.stdout!.on('data', (c) => (producerOut += c));
const producerDone = new Promise((r) => producer.on('exit', r));

// Sample what is queryable: row count and the age of the newest row.
const samples: { t: number; rows: number; ageMs: number }[] = [];
const t0 = Date.now();
let finished = false;
void producerDone.then(() => (finished = true));
const expected = rate * seconds;
while (true) {
  const [r] = await queryRows<{ n: string; newest: string }>(
    ch,
    'SELECT (SELECT count() FROM requests) + (SELECT count() FROM attempts) AS n, toUnixTimestamp64Milli((SELECT max(ts) FROM requests)) AS newest',
  );
  const now = Date.now();
  samples.push({ t: now, rows: Number(r.n), ageMs: now - Number(r.newest) });
  if ((finished && Number(r.n) >= expected) || now - t0 > seconds * 1000 * 6 + 60_000) break;
  await new Promise((res) => setTimeout(res, 250));
}
const p = JSON.parse(producerOut.trim().split('\n').pop()!);
const last = samples[samples.length - 1];
// Steady state: from when rows first appear to when the producer stopped emitting.
const first = samples.find((s) => s.rows > 0)!;
const steadyEnd = samples.find((s) => s.t >= first.t + p.emitSeconds * 1000) ?? last;
const ages = samples
  .filter((s) => s.t >= first.t + 2000 && s.t <= steadyEnd.t)
  .map((s) => s.ageMs)
  .sort((a, b) => a - b);
const drainSeconds = (last.t - first.t) / 1000;
console.log(`ingest  ${new Date().toISOString()}  offered ${rate} events/s for ${seconds} s (${p.emitted} events, ${values.partitions} partitions)`);
console.log(`producer: sent ${p.sent}, dropped ${p.dropped}, spooled ${p.spooled}; emitting took ${p.emitSeconds.toFixed(1)} s, sending done after ${p.totalSeconds.toFixed(1)} s`);
console.log(
  `ingested ${last.rows} rows (${((100 * last.rows) / p.emitted).toFixed(2)}% of emitted) in ${drainSeconds.toFixed(1)} s from first row: sustained ${(last.rows / drainSeconds).toFixed(0)} events/s (ratio to offered ${(last.rows / drainSeconds / rate).toFixed(2)}), ${inserts} inserts`,
);
console.log(
  `freshness (age of newest queryable row, sampled every 250 ms in steady state): p50 ${ages[Math.floor(ages.length * 0.5)]} ms, p95 ${ages[Math.floor(ages.length * 0.95)]} ms, max ${ages[ages.length - 1]} ms`,
);
console.log(
  `emission: emit() ${emit.emitUs.toFixed(3)} µs/event over a build-only baseline of ${emit.buildUs.toFixed(3)} µs; producer process CPU (build + emit + encode + gzip + send) ${p.producerCpuUsPerEvent.toFixed(2)} µs/event`,
);
await consumer.stop();
await closeClickHouse(ch, true);
if (!process.env.KAFKA_BROKERS) execFileSync(script, ['stop'], { env: brokerEnv });
process.exit(0);
