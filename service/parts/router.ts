// The router's parts: which upstreams it routes to (configured providers, or the bundled simulator), the
// spend ledger (shared through the spend channel in cluster mode or the supervisor's hub, seeded from
// ClickHouse when everything runs in one process), health, the upstream pools, and the signal that cuts
// requests still running when a stop gives up draining.
import type { Catalog, Endpoint } from '../../catalog/catalog.ts';
import type { Config } from '../../core/config.ts';
import { StopSignal } from '../../core/stop-signal.ts';
import { SpendLedger } from '../../router/auth/spend.ts';
import { HealthRegistry } from '../../router/health/registry.ts';
import { UpstreamClient, type UpstreamTarget } from '../../router/upstream/client.ts';
import type { Simulator } from '../../dev/simulator/server.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import { spentByKey } from '../../store/spend.ts';
import { SpendFleet } from '../../telemetry/spend-fleet.ts';
import { SpendChannel } from '../../telemetry/spend-topic.ts';
import type { HubClient } from '../supervisor/hub.ts';
import type { Assembly } from './assembly.ts';

/** How often a router publishes its changed spend figures to the fleet. */
const SPEND_PUBLISH_MS = 100;

export interface RouterParts {
  /** What this process routes to: the full catalog, or its configured providers' part of it. */
  catalog: Catalog;
  simulator: Simulator | undefined;
  target: (e: Endpoint) => UpstreamTarget;
  spend: SpendLedger;
  health: HealthRegistry;
  upstream: UpstreamClient;
  stopping: StopSignal;
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

/** The upstreams: configured providers' endpoints, or the bundled simulator when none are configured. */
export async function startUpstreams(a: Assembly, fullCatalog: Catalog): Promise<{ catalog: Catalog; simulator: Simulator | undefined }> {
  const { config, logger } = a;
  if (!a.routes) return { catalog: fullCatalog, simulator: undefined };
  if (config.providers.length > 0) {
    const catalog = fullCatalog.restrictTo(new Set(config.providers.map((p) => p.name)));
    logger.info({ providers: config.providers.map((p) => p.name), models: catalog.models.length }, 'routing to configured providers');
    return { catalog, simulator: undefined };
  }
  if (config.simulatorUrl) return { catalog: fullCatalog, simulator: undefined };
  // A development part, loaded only when no provider is configured.
  const { startSimulator } = await import('../../dev/simulator/server.ts');
  const simulator = await startSimulator({ catalog: fullCatalog, port: config.simulator.port, latencyScale: config.simulator.latencyScale });
  logger.info({ simulator: simulator.url }, `no providers configured: routing to the bundled provider simulator at ${simulator.url}`);
  a.onStop('release', 'provider simulator', () => simulator.close());
  return { catalog: fullCatalog, simulator };
}

/**
 * The supervisor keeps every router's latest figures (and the data process's count of what ClickHouse held
 * at the supervisor's start) and hands them to each router before it serves. A killed router's figures of
 * its last publish interval are missing until the supervisor's next start counts them from ClickHouse.
 */
function shareSpendThroughHub(a: Assembly, hub: HubClient, spend: SpendLedger): void {
  const fleet = new SpendFleet(spend, a.config.router.requestDeadlineMs + 10_000);
  hub.on('spend', (entries) => {
    for (const [, value] of entries) fleet.take(value);
  });
  const publish = () => hub.publish('spend', fleet.changedReports().messages);
  const timer = setInterval(publish, SPEND_PUBLISH_MS);
  timer.unref();
  a.onStop('produce', 'spend figures', async () => {
    clearInterval(timer);
    publish();
  });
}

export async function startRouterParts(
  a: Assembly,
  upstreams: { catalog: Catalog; simulator: Simulator | undefined },
  clickhouse: ClickHouseClient | undefined,
): Promise<RouterParts> {
  const { config, kafka } = a;
  // Spend: in cluster mode shared through the spend channel (every router's figures); embedded, this one
  // router's ledger is seeded from what ClickHouse holds.
  const spend = new SpendLedger();
  if (a.routes && kafka) {
    const channel = new SpendChannel(
      kafka,
      spend,
      { topic: a.topics.spend, intervalMs: SPEND_PUBLISH_MS, reservationTtlMs: config.router.requestDeadlineMs + 10_000 },
      a.logger.child({ part: 'spend' }),
    );
    await channel.start();
    a.onStop('produce', 'spend channel', () => channel.stop().catch(() => undefined));
  } else if (a.routes && a.hub) {
    shareSpendThroughHub(a, a.hub, spend);
  } else if (a.routes && clickhouse) {
    spend.seed(await spentByKey(clickhouse));
  }
  const r = config.router;
  const health = new HealthRegistry(
    {
      consecutiveFailures: r.breakerConsecutiveFailures,
      failureRatio: r.breakerFailureRatio,
      minRequests: r.breakerMinRequests,
      windowMs: r.breakerWindowMs,
      cooldownMs: r.breakerCooldownMs,
    },
    config.signals.slowFactor,
  );
  const upstream = new UpstreamClient(r);
  a.onStop('release', 'upstream pools', () => upstream.close());
  return { ...upstreams, target: targets(config, upstreams.simulator), spend, health, upstream, stopping: new StopSignal() };
}
