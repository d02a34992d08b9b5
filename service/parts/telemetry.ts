// Telemetry's way from the router to ClickHouse. Cluster mode: the Kafka sender (with its disk spool) on
// the router's side, and the supervised consumer group on ingest's. Embedded: the router's durable local
// log, read by the ingest worker thread.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { reasonLabel } from '../../core/metrics.ts';
import { IngestConsumer } from '../../ingest/consumer.ts';
import { WorkerIngest } from '../../ingest/worker-ingest.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import type { TelemetryCounts } from '../../telemetry/bus.ts';
import { KafkaSink } from '../../telemetry/kafka-sink.ts';
import { LocalLogSink, LocalLogWriter, writerDir } from '../../telemetry/local-log.ts';
import type { Assembly } from './assembly.ts';

export interface Telemetry {
  /** The router's sink, with its counts. */
  bus: TelemetryCounts;
  kafkaSink: KafkaSink | undefined;
  localLog: LocalLogSink | undefined;
  /** Embedded ingest (no Kafka). */
  ingest: WorkerIngest | undefined;
  consumer: IngestConsumer | undefined;
  /** Events dropped at an explicit limit (the sender's, the log's, or refused as invalid), for the stop's last log line and /metrics. */
  dropped(): number;
}

/** The sink of a process that routes nothing (an analytics or data role without Kafka). */
const NO_TELEMETRY: TelemetryCounts = { accepted: 0, waiting: 0, dropped: 0, emit: () => undefined };

function insertObserver(a: Assembly) {
  const { metrics } = a;
  return {
    onInsert: (table: string, rows: number, seconds: number) => {
      metrics.telemetryWritten.inc({ table }, rows);
      metrics.insertSeconds.observe({ table }, seconds);
    },
    onInsertError: (table: string) => metrics.insertErrors.inc({ table }),
  };
}

export async function startTelemetry(a: Assembly, clickhouse: ClickHouseClient | undefined): Promise<Telemetry> {
  const { config, kafka, logger, metrics } = a;
  let bus: TelemetryCounts;
  let kafkaSink: KafkaSink | undefined;
  let localLog: LocalLogSink | undefined;
  let ingest: WorkerIngest | undefined;
  let consumer: IngestConsumer | undefined;
  if (kafka) {
    // One spool per router host, so routers sharing a volume never replay each other's batches.
    const spoolDir = join(config.dataDir, 'spool', hostname());
    const sink = new KafkaSink(
      kafka,
      {
        queueMax: config.telemetry.queueMax,
        batchMax: config.kafka.batchMax,
        lingerMs: config.kafka.lingerMs,
        spoolDir,
        spoolMaxBytes: config.kafka.spoolMaxBytes,
        topic: a.topics.requests,
      },
      logger.child({ part: 'telemetry' }),
    );
    kafkaSink = sink;
    bus = sink.bus;
    if (a.routes) sink.start();
    a.onStop('send', 'telemetry producer', () => sink.stop()); // sends or spools what the drained requests emitted
  } else {
    // Embedded: a router appends to its local log; the ingest worker thread reads the logs into ClickHouse.
    bus = NO_TELEMETRY;
    if (a.routes) {
      // One log per router: the supervisor numbers its routers, and a restarted one appends to its own.
      const writer = new LocalLogWriter(writerDir(config.dataDir, config.supervision?.worker ?? 0));
      writer.open();
      const log = new LocalLogSink(writer, config.telemetry.localLogMaxBytes);
      localLog = log;
      bus = log;
      a.onStop('send', 'local log', async () => log.close()); // the last lines, then the file
    }
    if (a.ingests) {
      const worker = new WorkerIngest(
        { clickhouseUrl: config.clickhouseUrl, dataDir: config.dataDir, ...config.telemetry, logLevel: config.logLevel },
        {
          ...insertObserver(a),
          onInvalid: (reason, events) => metrics.telemetryInvalid.inc({ reason: reasonLabel(reason) }, events),
        },
      );
      ingest = worker;
      await worker.start();
      a.onStop('write', 'embedded ingest', () => worker.stop()); // reads the logs to their end into ClickHouse
    }
  }
  if (kafka && a.ingests && clickhouse) {
    const k = config.kafka;
    const c = new IngestConsumer(
      kafka,
      clickhouse,
      {
        groupId: k.groupId,
        sessionTimeoutMs: k.sessionTimeoutMs,
        commitDelayMs: k.commitDelayMs,
        topics: a.topics,
        lingerMs: k.ingestLingerMs,
        maxRows: k.ingestMaxRows,
        partitions: k.partitions,
      },
      logger.child({ part: 'ingest' }),
      {
        ...insertObserver(a),
        onBatch: (_partition, messages) => metrics.consumedBatch.observe(messages),
        onLag: (partition, lag) => metrics.consumerLag.set({ partition: String(partition) }, lag),
        onDeadLetter: (reason) => metrics.deadLetters.inc({ reason: reasonLabel(reason) }),
        onDuplicate: (n) => metrics.duplicatesSkipped.inc(n),
      },
    );
    consumer = c;
    await c.start();
    a.onStop('write', 'ingest consumer', () => c.stop()); // finishes its batches, commits
  }
  return {
    bus,
    kafkaSink,
    localLog,
    ingest,
    consumer,
    dropped: () => kafkaSink?.dropped ?? bus.dropped + (ingest?.dropped ?? 0),
  };
}
