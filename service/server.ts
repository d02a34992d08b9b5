// Start-up and shutdown of one service process: its role's parts assembled in order (service/parts/),
// the HTTP app on top, and a stop that drains requests, cuts what outlives the drain, then runs every
// part's shutdown step by stage. Routes live in app.ts. `npm start` runs the supervisor
// (supervisor/supervisor.ts), which starts a data process and router processes through this.
//   router         routes requests; telemetry to Kafka, or under the supervisor to its local log
//   data           ingest + analytics + signals + the web pages (under the supervisor, or on its own)
//   ingest         consumes Kafka into ClickHouse
//   analytics      answers analytics queries from ClickHouse, computes the signals
//   all            every part in this one process: for tests (service/main.ts supervises instead)
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadCatalog, type Catalog } from '../catalog/catalog.ts';
import type { Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { Metrics } from '../core/metrics.ts';
import { Warmup } from '../core/refreshing-cache.ts';
import { keepMainThreadFirst, keepProcessInBackground } from '../core/thread-priority.ts';
import type { SignalComputer } from '../analytics/signals/computer.ts';
import type { IngestConsumer } from '../ingest/consumer.ts';
import type { WorkerIngest } from '../ingest/worker-ingest.ts';
import type { KeyStore } from '../router/auth/key-store.ts';
import type { KeyAuthority } from '../analytics/governance/authority.ts';
import { RateLimiter } from '../router/auth/rate-limit.ts';
import type { SpendLedger } from '../router/auth/spend.ts';
import type { HealthRegistry } from '../router/health/registry.ts';
import type { SignalTable } from '../router/health/signals.ts';
import { DEFAULT_WEIGHTS } from '../router/routing/plan.ts';
import type { Simulator } from '../dev/simulator/server.ts';
import type { ClickHouseClient } from '../store/clickhouse.ts';
import type { TelemetryCounts } from '../telemetry/bus.ts';
import { createKafka, ensureTopics, topicNames } from '../telemetry/kafka.ts';
import type { KafkaSink } from '../telemetry/kafka-sink.ts';
import { buildApp } from './app.ts';
import { runAnalytics } from './parts/analytics.ts';
import { Assembly } from './parts/assembly.ts';
import { opsOf } from './parts/ops.ts';
import { startRouterParts, startUpstreams } from './parts/router.ts';
import { startSignals } from './parts/signals.ts';
import { startGovernance } from './parts/governance.ts';
import { startStore } from './parts/store.ts';
import { startTelemetry } from './parts/telemetry.ts';
import { waitingFor } from './shutdown.ts';
import { HubClient } from './supervisor/hub.ts';
import { baseReports } from '../telemetry/spend-fleet.ts';
import { spentByKey } from '../store/spend.ts';

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
  /** Analytics role: the one writer of keys, policies and the audit log. */
  authority: KeyAuthority | undefined;
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
  /** What the public figures take as now (tests put recent traffic into complete hours). */
  clock?: () => number;
}

/** How long a stop waits, after cutting what still ran, for those answers to end. */
const SHUTDOWN_CUT_LIMIT_MS = 5_000;

export async function startService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  const { role } = config;
  if (role === 'simulator') throw new Error('the simulator role is started by startSimulatorRole');
  const hub = config.supervision ? HubClient.ofThisProcess() : undefined;
  if (((role === 'router' && !hub) || role === 'ingest') && !config.kafkaBrokers)
    throw new Error(`role "${role}" needs KAFKA_BROKERS (cluster mode); run without a role (npm start) for the service on one machine`);
  // Under the supervisor the data process yields to the routers: every thread of it, later ones included.
  if (role === 'data' && hub) keepProcessInBackground(config.backgroundNice);
  const logger = opts.logger ?? createLogger(config.logLevel);
  const kafka = config.kafkaBrokers ? createKafka(config.kafkaBrokers, `switchboard-${role}`, logger) : undefined;
  const a = new Assembly(config, logger, new Metrics(), kafka, topicNames(config.kafka.topicPrefix), hub);

  // Everything the world offers (for the catalog history); routing may narrow it to configured providers.
  const fullCatalog = loadCatalog().extend(config.extraModels, config.providers);
  // Keys, logs, spool and chDB live here: readable by this service's user only.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const clickhouse = await startStore(a, fullCatalog);
  // The ingest consumer creates them itself, retrying while the broker is away: an ingest process started
  // before its broker waits for it instead of exiting.
  if (kafka && (a.routes || !a.ingests)) await ensureTopics(kafka, a.topics, config.kafka.partitions);
  const { keys, devKey, authority } = await startGovernance(a, clickhouse);
  if (a.routes && !hub && config.devKey === undefined) logger.info(`development API key (valid until this process stops): ${devKey}`);
  const upstreams = await startUpstreams(a, fullCatalog);
  const telemetry = await startTelemetry(a, clickhouse);
  const router = await startRouterParts(a, upstreams, clickhouse);
  const { catalog, health } = router;
  const signals = startSignals(a, health, clickhouse);
  const weights = () => DEFAULT_WEIGHTS;
  if (config.supervision?.seedSpend && telemetry.ingest && clickhouse && hub) {
    // Every router's log read to its end first: what ClickHouse then holds is all spend before this start.
    await telemetry.ingest.catchUp();
    hub.publish('spend', baseReports(`clickhouse-${Date.now()}`, await spentByKey(clickhouse)));
  }
  // The signals, spend figures and keys the other processes published, before the first request.
  await hub?.subscribe();

  let draining = false;
  const warmup = new Warmup();
  const app = await buildApp({
    logger,
    warmup,
    metrics: a.metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    http: config.http,
    opsToken: config.opsToken,
    keys,
    authority,
    catalog,
    appMinUsers: config.appMinUsers,
    defaultRateLimitPerMinute: config.defaultRateLimitPerMinute,
    preferenceRefreshS: config.preferenceRefreshS,
    publicRefreshS: config.publicRefreshS,
    clock: opts.clock,
    preference: signals.preference,
    router: a.routes
      ? {
          chat: {
            config,
            catalog,
            health,
            upstream: router.upstream,
            target: router.target,
            sink: telemetry.bus,
            metrics: a.metrics,
            spend: router.spend,
            weights,
            signals: signals.signals,
            preference: signals.preference,
            stopping: router.stopping,
            random: opts.random,
          },
          rateLimiter: new RateLimiter(),
        }
      : undefined,
    clickhouse: a.analyzes ? clickhouse : undefined,
    status: a.routes || a.analyzes ? { catalog, health, signals: signals.signals, weights } : undefined,
    webDir: a.analyzes ? config.webDir : undefined,
    forwardTo: a.analyzes ? undefined : config.supervision?.dataUrl,
    draining: () => draining,
    ops: opsOf({ metrics: a.metrics, routes: a.routes, catalog, health, signals, weights, telemetry, draining: () => draining }),
  });
  // One process for every role: its background threads must not hold requests up (core/thread-priority.ts).
  const stopPriority = role === 'all' ? keepMainThreadFirst(config.backgroundNice) : () => undefined;
  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  const analytics = runAnalytics(a, { clickhouse, catalog, keys, simulator: upstreams.simulator, warmup, url });
  if (hub) {
    logger.info({ internalUrl: url, role, worker: config.supervision?.worker, kafka: Boolean(kafka) }, `switchboard ${role} process listening on ${url}`);
    hub.tell({ sb: 'listening', url });
  } else logger.info({ url, role, kafka: Boolean(kafka) }, `switchboard (${role}) listening on ${url}${a.routes ? ` (OpenAI base URL ${url}/v1)` : ''}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    app,
    catalog,
    simulator: upstreams.simulator,
    clickhouse,
    bus: telemetry.bus,
    ingest: telemetry.ingest,
    kafkaSink: telemetry.kafkaSink,
    consumer: telemetry.consumer,
    health,
    spend: router.spend,
    keys,
    authority,
    signals: signals.signals,
    signalComputer: signals.computer,
    computedAhead: analytics.computedAhead,
    devKey,
    close: () =>
      (closing ??= (async () => {
        draining = true;
        stopPriority();
        analytics.halt();
        // Stop accepting and wait for requests in flight. Every answer from now on closes its connection
        // (a request arriving on an open one gets a 503 it can retry elsewhere), so no connection turns idle
        // to be reset under a client. Past the drain limit, what still runs is cut: streams end with an error
        // chunk and [DONE], and each is recorded.
        const drained = app.close();
        await waitingFor('requests in flight', drained, logger, config.shutdownDrainMs);
        router.stopping.fire();
        await waitingFor('requests cut by the shutdown', drained, logger, SHUTDOWN_CUT_LIMIT_MS);
        for (const step of a.stopSteps()) await waitingFor(step.name, step.run(), logger, step.limitMs);
        logger.info({ written: telemetry.ingest?.written ?? telemetry.consumer?.ingested, dropped: telemetry.dropped() }, 'switchboard stopped');
      })()),
  };
}

/** `simulator` role: the provider simulator as its own service (cluster mode, docker compose). */
export async function startSimulatorRole(config: Config, logger: Logger): Promise<Simulator> {
  const { host, adminToken } = config.simulator;
  // The simulator is a development part: loaded only by the role that runs it.
  const { startSimulator } = await import('../dev/simulator/server.ts');
  const hub = HubClient.ofThisProcess();
  // Under the supervisor it takes any free port; on its own, the one compose files name.
  const port = config.simulator.port || (hub ? 0 : 8090);
  const sim = await startSimulator({ catalog: loadCatalog(), host, port, latencyScale: config.simulator.latencyScale, adminToken });
  logger.info({ simulatorUrl: sim.url }, `provider simulator listening on ${sim.url}`);
  hub?.tell({ sb: 'listening', url: sim.url });
  return sim;
}
