// Start-up and shutdown: which parts run in this process (by role), listening, and a graceful stop that
// drains in-flight requests and flushes telemetry. Routes live in app.ts.
//   all (default)  router + ingest + analytics; in-process hand-off and chDB, or Kafka when KAFKA_BROKERS is set
//   router         routes requests, emits telemetry to Kafka
//   ingest         consumes Kafka into ClickHouse
//   analytics      answers analytics queries from ClickHouse
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadCatalog, type Catalog, type Endpoint } from '../catalog/catalog.ts';
import type { Config } from '../core/config.ts';
import { keepMainThreadFirst } from '../core/thread-priority.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { Metrics, reasonLabel } from '../core/metrics.ts';
import { closeClickHouse, openClickHouse, queryRows, type ClickHouseClient } from '../store/clickhouse.ts';
import { migrate } from '../store/migrate.ts';
import { recordCatalog } from '../analytics/catalog-history.ts';
import { Demo } from '../analytics/population/demo.ts';
import { IngestConsumer } from '../ingest/consumer.ts';
import { WorkerIngest } from '../ingest/worker-ingest.ts';
import { KeyStore, newKeySecret } from '../router/auth/key-store.ts';
import { RateLimiter } from '../router/auth/rate-limit.ts';
import { SpendLedger } from '../router/auth/spend.ts';
import { HealthRegistry } from '../router/health/registry.ts';
import { DEFAULT_WEIGHTS } from '../router/routing/plan.ts';
import { SignalTable } from '../router/health/signals.ts';
import { endpointStatuses } from '../router/routing/status.ts';
import { SignalComputer } from '../analytics/signals/computer.ts';
import { SignalProducer, SignalSubscriber } from '../telemetry/signal-topic.ts';
import { UpstreamClient, type UpstreamTarget } from '../router/upstream/client.ts';
import { startSimulator, type Simulator } from '../simulator/server.ts';
import type { TelemetryCounts, TelemetrySink } from '../telemetry/bus.ts';
import { LocalLogSink, LocalLogWriter, writerDir } from '../telemetry/local-log.ts';
import { createKafka, ensureTopics, topicNames } from '../telemetry/kafka.ts';
import { KafkaSink } from '../telemetry/kafka-sink.ts';
import { SpendChannel } from '../telemetry/spend-topic.ts';
import { buildApp } from './app.ts';
import { Warmup } from '../core/refreshing-cache.ts';
import { waitingFor } from './shutdown.ts';
import { StopSignal } from '../core/stop-signal.ts';

export interface Service {
  url: string;
  config: Config;
  app: FastifyInstance;
  catalog: Catalog;
  simulator: Simulator | undefined;
  clickhouse: ClickHouseClient | undefined;
  /** The router's telemetry hand-off (its local log, or the Kafka sender's queue), with its counts. */
  bus: TelemetryCounts;
  /** Embedded ingest (no Kafka). */
  ingest: WorkerIngest | undefined;
  kafkaSink: KafkaSink | undefined;
  consumer: IngestConsumer | undefined;
  health: HealthRegistry;
  /** Spend per key as this router holds it (settled and reserved). */
  spend: SpendLedger;
  keys: KeyStore;
  /** The fleet's signals as this process holds them (router or analytics role). */
  signals: SignalTable;
  /** Analytics role: computes and publishes the signals. */
  signalComputer: SignalComputer | undefined;
  /** Settles when the public figures' default views have been computed ahead: true, or false when not (empty database, stopped, failed). */
  computedAhead: Promise<boolean>;
  /** The development key: SWITCHBOARD_DEV_KEY, or one made up for this process. */
  devKey: string;
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
  random?: () => number;
}

function targets(config: Config, simulator: Simulator | undefined): (e: Endpoint) => UpstreamTarget {
  const simUrl = simulator?.url ?? config.simulatorUrl;
  if (simUrl) return (e) => ({ baseUrl: `${simUrl}/${e.provider}`, apiKey: undefined });
  const byName = new Map(config.providers.map((p) => [p.name, p]));
  return (e) => {
    const p = byName.get(e.provider);
    if (!p) throw new Error(`no configured provider ${e.provider}`);
    return { baseUrl: p.baseUrl, apiKey: p.apiKeyEnv ? process.env[p.apiKeyEnv] : undefined };
  };
}

export async function startService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  const { role } = config;
  if (role === 'simulator') throw new Error('the simulator role is started by startSimulatorRole');
  const routes = role === 'all' || role === 'router';
  const ingests = role === 'all' || role === 'ingest';
  const analyzes = role === 'all' || role === 'analytics';
  const kafkaBrokers = config.kafkaBrokers;
  if ((role === 'router' || role === 'ingest') && !kafkaBrokers) throw new Error(`role "${role}" needs KAFKA_BROKERS (cluster mode); run without a role for the embedded service`);

  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  // Everything the world offers (for the catalog history); routing may narrow it to configured providers.
  const fullCatalog = loadCatalog().extend(config.extraModels, config.providers);
  let catalog = fullCatalog;
  let simulator: Simulator | undefined;
  if (routes && config.providers.length === 0 && !config.simulatorUrl) {
    simulator = await startSimulator({ catalog, port: config.simulator.port, latencyScale: config.simulator.latencyScale });
    logger.info({ simulator: simulator.url }, `no providers configured: routing to the bundled provider simulator at ${simulator.url}`);
  } else if (routes && config.providers.length > 0) {
    catalog = catalog.restrictTo(new Set(config.providers.map((p) => p.name)));
    logger.info({ providers: config.providers.map((p) => p.name), models: catalog.models.length }, 'routing to configured providers');
  }

  // Keys, spool and chDB live here: readable by this service's user only.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = new KeyStore(join(config.dataDir, 'keys.json'), (message) => logger.error({ file: join(config.dataDir, 'keys.json') }, `${message}; the keys loaded before stay in force until the file is fixed`));
  const devKey = config.devKey ?? newKeySecret();
  keys.addEphemeral(devKey, 'dev', 'acct_dev');
  for (const k of config.fileKeys) keys.addHashed({ name: k.name, hash: k.sha256, accountId: k.account, rateLimitPerMinute: k.rateLimitPerMinute, spendLimitUsd: k.spendLimitUsd });
  if (routes && config.devKey === undefined) logger.info(`development API key (valid until this process stops): ${devKey}`);

  let clickhouse: ClickHouseClient | undefined;
  if (ingests || analyzes || config.clickhouseUrl) {
    clickhouse = await openClickHouse({ url: config.clickhouseUrl, dataDir: config.dataDir });
    await migrate(clickhouse, config.retentionDays);
    const changes = await recordCatalog(clickhouse, fullCatalog);
    if (changes > 0) logger.info({ changes }, 'catalog changes recorded');
  }
  const kafka = kafkaBrokers ? createKafka(kafkaBrokers, `switchboard-${role}`, logger) : undefined;
  const topics = topicNames(config.kafka.topicPrefix);
  // The ingest consumer creates them itself, retrying while the broker is away: an ingest process started
  // before its broker waits for it instead of exiting.
  if (kafka && role !== 'ingest') await ensureTopics(kafka, topics, config.kafka.partitions);

  // Telemetry: the router's side.
  let bus: TelemetryCounts;
  let sink: TelemetrySink;
  let localLog: LocalLogSink | undefined;
  let kafkaSink: KafkaSink | undefined;
  let ingest: WorkerIngest | undefined;
  const insertObserver = {
    onInsert: (table: string, rows: number, seconds: number) => {
      metrics.telemetryWritten.inc({ table }, rows);
      metrics.insertSeconds.observe({ table }, seconds);
    },
    onInsertError: (table: string) => metrics.insertErrors.inc({ table }),
    onDrop: (table: string, rows: number) => metrics.ingestDropped.inc({ table }, rows),
  };
  if (kafka) {
    // One spool per router host, so routers sharing a volume never replay each other's batches.
    const spoolDir = join(config.dataDir, 'spool', hostname());
    kafkaSink = new KafkaSink(kafka, { queueMax: config.telemetry.queueMax, batchMax: config.kafka.batchMax, lingerMs: config.kafka.lingerMs, spoolDir, spoolMaxBytes: config.kafka.spoolMaxBytes, topic: topics.requests }, logger.child({ part: 'telemetry' }));
    bus = kafkaSink.bus;
    sink = kafkaSink;
    if (routes) kafkaSink.start();
  } else {
    // Embedded: this router appends to its local log; the ingest worker thread reads it into ClickHouse.
    const writer = new LocalLogWriter(writerDir(config.dataDir, 0));
    writer.open();
    localLog = new LocalLogSink(writer);
    bus = localLog;
    sink = localLog;
    ingest = new WorkerIngest({ clickhouseUrl: config.clickhouseUrl, dataDir: config.dataDir, ...config.telemetry, logLevel: config.logLevel }, {
      ...insertObserver,
      onInvalid: (reason, events) => metrics.telemetryInvalid.inc({ reason: reasonLabel(reason) }, events),
    });
    await ingest.start();
  }

  // Ingest from Kafka.
  let consumer: IngestConsumer | undefined;
  if (kafka && ingests && clickhouse) {
    consumer = new IngestConsumer(kafka, clickhouse, { groupId: config.kafka.groupId, sessionTimeoutMs: config.kafka.sessionTimeoutMs, commitDelayMs: config.kafka.commitDelayMs, topics, lingerMs: config.kafka.ingestLingerMs, maxRows: config.kafka.ingestMaxRows, partitions: config.kafka.partitions }, logger.child({ part: 'ingest' }), {
      ...insertObserver,
      onBatch: (_partition, messages) => metrics.consumedBatch.observe(messages),
      onLag: (partition, lag) => metrics.consumerLag.set({ partition: String(partition) }, lag),
      onDeadLetter: (reason) => metrics.deadLetters.inc({ reason: reasonLabel(reason) }),
      onDuplicate: (n) => metrics.duplicatesSkipped.inc(n),
    });
    await consumer.start();
  }

  // Spend: in cluster mode shared through the spend channel (every router's figures); embedded, this one
  // router's ledger is seeded from what ClickHouse holds.
  const spend = new SpendLedger();
  let spendChannel: SpendChannel | undefined;
  if (routes && kafka) {
    spendChannel = new SpendChannel(kafka, spend, { topic: topics.spend, intervalMs: SPEND_PUBLISH_MS, reservationTtlMs: config.router.requestDeadlineMs + 10_000 }, logger.child({ part: 'spend' }));
    await spendChannel.start();
  } else if (routes && clickhouse) {
    spend.seed((await queryRows<{ key_id: string; usd: number }>(clickhouse, 'SELECT key_id, sum(cost_usd + fee_usd) AS usd FROM requests GROUP BY key_id')).map((r) => [r.key_id, Number(r.usd)]));
  }
  const health = new HealthRegistry({
    consecutiveFailures: config.router.breakerConsecutiveFailures,
    failureRatio: config.router.breakerFailureRatio,
    minRequests: config.router.breakerMinRequests,
    windowMs: config.router.breakerWindowMs,
    cooldownMs: config.router.breakerCooldownMs,
  }, config.signals.slowFactor);
  const upstream = new UpstreamClient(config.router);
  let draining = false;
  const stopping = new StopSignal();

  // The closed loop: analytics judges endpoints; every router folds the verdicts into its weights.
  const sc = config.signals;
  const signals = new SignalTable({ maxAgeMs: sc.maxAgeMs, probeShare: sc.probeShare, degradedShare: sc.degradedShare, recoverMs: sc.recoverS * 1000, minRequests: sc.minRequests }, (s) => {
    if (routes && (s.status === 'recovering' || s.status === 'healthy')) health.get(s.endpoint_id).breaker.nudge(s.status_since);
  });
  let signalComputer: SignalComputer | undefined;
  let signalProducer: SignalProducer | undefined;
  let signalSubscriber: SignalSubscriber | undefined;
  if (analyzes && clickhouse) {
    if (kafka) signalProducer = new SignalProducer(kafka, topics.signals, logger.child({ part: 'signals' }));
    signalComputer = new SignalComputer(clickhouse, sc, async (list) => {
      signals.update(list);
      await signalProducer?.publish(list);
    }, logger.child({ part: 'signals' }));
    signalComputer.start();
  } else if (routes && kafka) {
    signalSubscriber = new SignalSubscriber(kafka, topics.signals, (list) => signals.update(list), logger.child({ part: 'signals' }));
    signalSubscriber.start();
  }
  const weights = () => DEFAULT_WEIGHTS;

  const warmup = new Warmup();
  const app = await buildApp({
    logger,
    warmup,
    metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    http: config.http,
    opsToken: config.opsToken,
    keys,
    catalog,
    appMinUsers: config.appMinUsers,
    preferenceRefreshS: config.preferenceRefreshS,
    publicRefreshS: config.publicRefreshS,
    router: routes
      ? { chat: { config, catalog, health, upstream, target: targets(config, simulator), sink, metrics, spend, weights, signals, stopping, random: opts.random }, rateLimiter: new RateLimiter() }
      : undefined,
    clickhouse: analyzes ? clickhouse : undefined,
    status: routes || analyzes ? { catalog, health, signals, weights } : undefined,
    webDir: analyzes ? config.webDir : undefined,
    draining: () => draining,
    ops: {
      collect: () => {
        if (signals.lastReceivedAt > 0) metrics.signalAge.set((Date.now() - signals.lastReceivedAt) / 1000);
        if (signalComputer) {
          metrics.signalsComputed.set(signalComputer.ticks);
          metrics.signalTickSeconds.set(signalComputer.lastTickMs / 1000);
        }
        if (!routes) return;
        const statusValue = { healthy: 0, recovering: 1, degraded: 2, down: 3 } as const;
        for (const r of endpointStatuses(catalog, health, signals, weights())) {
          // Only endpoints this router has used or heard about: the whole catalog would be noise.
          if (r.signal === null && r.breaker === 'closed' && health.get(r.endpoint_id).stats.snapshot().requests_5m === 0) continue;
          const labels = { endpoint: r.endpoint_id, model: r.model, provider: r.provider };
          metrics.routeWeight.set(labels, r.weight);
          metrics.routeShare.set(labels, r.share);
          if (r.status !== 'unknown') metrics.endpointStatus.set({ endpoint: r.endpoint_id }, statusValue[r.status]);
        }
      },
      ready: () => {
        if (draining) return { ready: false, reason: 'shutting down' };
        if (consumer && consumer.state !== 'running') return { ready: false, reason: `ingest consumer ${consumer.state}${consumer.lastError ? `: ${consumer.lastError}` : ''}` };
        return { ready: true };
      },
      telemetry: () => {
        if (kafkaSink) {
          metrics.spoolBytes.set(kafkaSink.spool.bytes);
          metrics.spooledEvents.set(kafkaSink.spooled);
          metrics.replayedEvents.set(kafkaSink.replayed);
          return { depth: bus.waiting, dropped: kafkaSink.dropped };
        }
        return { depth: bus.waiting, dropped: bus.dropped + (ingest?.dropped ?? 0) };
      },
    },
  });
  // One process for every role: its background threads must not hold requests up (core/thread-priority.ts).
  const stopPriority = role === 'all' ? keepMainThreadFirst(config.backgroundNice) : () => undefined;
  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  let demo: Demo | undefined;
  let backfilled: Promise<void> = Promise.resolve();
  if (config.demo.mode === 'auto' && role === 'all' && simulator && clickhouse) {
    demo = new Demo({ clickhouse, catalog, keys, log: logger.child({ part: 'demo' }), url: () => url }, config.demo);
    backfilled = demo.start().catch((err) => logger.error({ err }, 'demo backfill failed'));
  }
  const computedAhead = analyzes && clickhouse ? backfilled.then(() => computeAhead(clickhouse, warmup, logger)) : Promise.resolve(false);
  logger.info({ url, role, kafka: Boolean(kafka) }, `switchboard (${role}) listening on ${url}${routes ? ` (OpenAI base URL ${url}/v1)` : ''}`);

  // In order: nothing new is made, what was made is sent and written, then the engines close.
  // A step with a limit is given up past it (logged as an error): the full test suite caught the figure
  // computed ahead never settling in an idle process, and a stop must not hang on what only reads.
  const shutdownSteps: [string, () => Promise<unknown> | undefined, number?][] = [
    ['signal computer', () => signalComputer?.stop()],
    ['signal producer', () => signalProducer?.stop().catch(() => undefined)],
    ['signal subscriber', () => signalSubscriber?.stop().catch(() => undefined)],
    ['spend channel', () => spendChannel?.stop().catch(() => undefined)],
    ['telemetry producer', () => kafkaSink?.stop()], // sends or spools what the drained requests emitted
    ['local log', async () => localLog?.close()], // the last lines, then the file
    ['embedded ingest', () => ingest?.stop()], // reads the logs to their end into ClickHouse
    ['ingest consumer', () => consumer?.stop()], // finishes its batches, commits
    ['upstream pools', () => upstream.close()],
    ['provider simulator', () => simulator?.close()],
    ['figure computed ahead', () => computedAhead, SHUTDOWN_READ_LIMIT_MS], // the key being computed when stopped, before its engine closes
    ['ClickHouse', () => (clickhouse ? closeClickHouse(clickhouse, config.clickhouseUrl === undefined) : undefined), SHUTDOWN_READ_LIMIT_MS],
  ];

  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    app,
    catalog,
    simulator,
    clickhouse,
    bus,
    ingest,
    kafkaSink,
    consumer,
    health,
    spend,
    keys,
    signals,
    signalComputer,
    computedAhead,
    devKey,
    close: () =>
      (closing ??= (async () => {
        draining = true;
        stopPriority();
        demo?.stop();
        warmup.stop();
        // Stop accepting and wait for requests in flight. Every answer from now on closes its connection
        // (a request arriving on an open one gets a 503 it can retry elsewhere), so no connection turns idle
        // to be reset under a client. Past the drain limit, what still runs is cut: streams end with an error
        // chunk and [DONE], and each is recorded.
        const drained = app.close();
        await waitingFor('requests in flight', drained, logger, config.shutdownDrainMs);
        stopping.fire();
        await waitingFor('requests cut by the shutdown', drained, logger, SHUTDOWN_CUT_LIMIT_MS);
        for (const [step, run, limitMs] of shutdownSteps) await waitingFor(step, run(), logger, limitMs);
        logger.info({ written: ingest?.written ?? consumer?.ingested, dropped: kafkaSink?.dropped ?? bus.dropped + (ingest?.dropped ?? 0) }, 'switchboard stopped');
      })()),
  };
}

/** How often a router publishes its changed spend figures to the fleet. */
const SPEND_PUBLISH_MS = 100;

/** How long a stop waits, after cutting what still ran, for those answers to end. */
const SHUTDOWN_CUT_LIMIT_MS = 5_000;

/** How long a stop waits for reads still running in the analytics engine. */
const SHUTDOWN_READ_LIMIT_MS = 30_000;

/**
 * The public figures' default views computed before anyone asks (after the demo's backfill, when one runs),
 * so the first caller after a start is answered from memory like every later one. An empty database has
 * nothing worth computing: its first figures are made on demand once rows arrive.
 */
async function computeAhead(clickhouse: ClickHouseClient, warmup: Warmup, logger: Logger): Promise<boolean> {
  try {
    if (warmup.isStopped) return false;
    const [{ n }] = await queryRows<{ n: string }>(clickhouse, 'SELECT count() AS n FROM (SELECT 1 FROM requests LIMIT 1)');
    if (Number(n) === 0) return false;
    const t0 = Date.now();
    logger.info('computing the public rankings, model stats and revealed preference ahead');
    const done = await warmup.run();
    if (done) logger.info({ seconds: (Date.now() - t0) / 1000 }, 'public figures computed ahead');
    return done;
  } catch (err) {
    logger.warn({ err }, 'computing the public figures ahead failed; they are computed on first request');
    return false;
  }
}

/** `simulator` role: the provider simulator as its own service (cluster mode, docker compose). */
export async function startSimulatorRole(config: Config, logger: Logger): Promise<Simulator> {
  const { host, adminToken } = config.simulator;
  const sim = await startSimulator({ catalog: loadCatalog(), host, port: config.simulator.port || 8090, latencyScale: config.simulator.latencyScale, adminToken });
  logger.info({ url: sim.url }, `provider simulator listening on ${sim.url}`);
  return sim;
}
