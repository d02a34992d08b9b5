// Start-up and shutdown of the service: which parts run in this process, listening, and a graceful stop
// that drains in-flight requests and flushes telemetry. Routes live in app.ts.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadCatalog, type Catalog, type Endpoint } from '../catalog/catalog.ts';
import type { Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { Metrics } from '../core/metrics.ts';
import { closeClickHouse, openClickHouse, queryRows, type ClickHouseClient } from '../analytics/clickhouse.ts';
import { migrate } from '../analytics/schema/migrate.ts';
import { WorkerIngest } from '../ingest/worker-ingest.ts';
import { KeyStore, newKeySecret } from '../router/auth/key-store.ts';
import { RateLimiter } from '../router/auth/rate-limit.ts';
import { SpendLedger } from '../router/auth/spend.ts';
import { HealthRegistry } from '../router/health/registry.ts';
import { DEFAULT_WEIGHTS } from '../router/routing/plan.ts';
import { UpstreamClient, type UpstreamTarget } from '../router/upstream/client.ts';
import { startSimulator, type Simulator } from '../simulator/server.ts';
import { MemoryBus } from '../telemetry/bus.ts';
import { buildApp } from './app.ts';

export interface Service {
  url: string;
  config: Config;
  app: FastifyInstance;
  catalog: Catalog;
  simulator: Simulator | undefined;
  clickhouse: ClickHouseClient;
  bus: MemoryBus;
  ingest: WorkerIngest;
  health: HealthRegistry;
  /** The development key, when this process made one up (SWITCHBOARD_DEV_KEY unset). */
  devKey: string;
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
  random?: () => number;
}

function targets(config: Config, simulator: Simulator | undefined): (e: Endpoint) => UpstreamTarget {
  if (simulator) return (e) => ({ baseUrl: `${simulator.url}/${e.provider}`, apiKey: undefined });
  const byName = new Map(config.providers.map((p) => [p.name, p]));
  return (e) => {
    const p = byName.get(e.provider);
    if (!p) throw new Error(`no configured provider ${e.provider}`);
    return { baseUrl: p.baseUrl, apiKey: p.apiKeyEnv ? process.env[p.apiKeyEnv] : undefined };
  };
}

/** The embedded service: router, ingest and analytics in one process, with chDB under DATA_DIR. */
export async function startService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  if (config.role !== 'all') {
    throw new Error(`role "${config.role}" runs against Kafka and a ClickHouse server (cluster mode), which this build does not provide yet; run without a role for the embedded service`);
  }
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  let catalog = loadCatalog();
  let simulator: Simulator | undefined;
  if (config.providers.length === 0) {
    simulator = await startSimulator({ catalog, port: config.simulator.port, latencyScale: config.simulator.latencyScale });
    logger.info({ simulator: simulator.url }, `no providers configured: routing to the bundled provider simulator at ${simulator.url}`);
  } else {
    catalog = catalog.restrictTo(new Set(config.providers.map((p) => p.name)));
    logger.info({ providers: config.providers.map((p) => p.name), models: catalog.models.length }, 'routing to configured providers');
  }

  const keys = new KeyStore(join(config.dataDir, 'keys.json'));
  const devKey = config.devKey ?? newKeySecret();
  keys.addEphemeral(devKey, 'dev', 'acct_dev');
  if (config.devKey === undefined) logger.info(`development API key (valid until this process stops): ${devKey}`);

  const clickhouse = await openClickHouse({ url: config.clickhouseUrl, dataDir: config.dataDir });
  await migrate(clickhouse, config.retentionDays);
  const spend = new SpendLedger();
  spend.seed((await queryRows<{ key_id: string; usd: number }>(clickhouse, 'SELECT key_id, sum(cost_usd + fee_usd) AS usd FROM requests GROUP BY key_id')).map((r) => [r.key_id, Number(r.usd)]));

  const bus = new MemoryBus(config.telemetry.queueMax);
  const ingest = new WorkerIngest(bus, { clickhouseUrl: config.clickhouseUrl, dataDir: config.dataDir, ...config.telemetry, logLevel: config.logLevel }, {
    onInsert: (table, rows, seconds) => {
      metrics.telemetryWritten.inc({ table }, rows);
      metrics.insertSeconds.observe({ table }, seconds);
    },
    onInsertError: (table) => metrics.insertErrors.inc({ table }),
    onDrop: (table, rows) => metrics.ingestDropped.inc({ table }, rows),
  });
  await ingest.start();

  const health = new HealthRegistry({
    consecutiveFailures: config.router.breakerConsecutiveFailures,
    failureRatio: config.router.breakerFailureRatio,
    minRequests: config.router.breakerMinRequests,
    windowMs: config.router.breakerWindowMs,
    cooldownMs: config.router.breakerCooldownMs,
  });
  const upstream = new UpstreamClient(config.router);
  let draining = false;

  const app = await buildApp({
    logger,
    metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    keys,
    router: {
      chat: { config, catalog, health, upstream, target: targets(config, simulator), sink: bus, metrics, spend, weights: () => DEFAULT_WEIGHTS, random: opts.random },
      rateLimiter: new RateLimiter(),
    },
    clickhouse,
    ops: {
      ready: () => (draining ? { ready: false, reason: 'shutting down' } : { ready: true }),
      telemetry: () => ({ depth: bus.waiting, dropped: bus.dropped + ingest.dropped }),
    },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  logger.info({ url }, `switchboard listening on ${url} (OpenAI base URL ${url}/v1)`);

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
    health,
    devKey,
    close: () =>
      (closing ??= (async () => {
        draining = true;
        // Stop accepting and wait for in-flight requests. A connection whose request finishes during the
        // drain turns idle keep-alive only afterwards, so keep closing idle ones until the server is shut.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
        await app.close().finally(() => clearInterval(sweep));
        logger.debug('http closed');
        await ingest.stop(); // flushes what they emitted
        logger.debug('telemetry flushed');
        await upstream.close();
        await simulator?.close();
        logger.debug('upstreams closed');
        await closeClickHouse(clickhouse, config.clickhouseUrl === undefined);
        logger.info({ written: ingest.written, dropped: bus.dropped + ingest.dropped }, 'switchboard stopped');
      })()),
  };
}
