// The analytics side once the service listens: the demo population (embedded, with the bundled simulator,
// on an empty database) and the public figures computed ahead, so the first caller is served from memory.
import type { Catalog } from '../../catalog/catalog.ts';
import type { Logger } from '../../core/logger.ts';
import type { Warmup } from '../../core/refreshing-cache.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import type { Simulator } from '../../dev/simulator/server.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import { hasRequests } from '../../store/spend.ts';
import type { Assembly } from './assembly.ts';
import { encodeKeyMessage, keyMessage, keyMessageKey } from '../../governance/key-record.ts';
import { SHUTDOWN_READ_LIMIT_MS } from './store.ts';

export interface AnalyticsRun {
  /** Settles when the default views have been computed ahead: true, or false when not (empty database, stopped, failed). */
  computedAhead: Promise<boolean>;
  /** Stops making: the demo's traffic and the computation ahead (called first at a stop). */
  halt(): void;
}

export function runAnalytics(
  a: Assembly,
  deps: { clickhouse: ClickHouseClient | undefined; catalog: Catalog; keys: KeyStore; simulator: Simulator | undefined; warmup: Warmup; url: string },
): AnalyticsRun {
  const { clickhouse, warmup } = deps;
  let demo: { stop(): void } | undefined;
  let halted = false;
  let backfilled: Promise<void> = Promise.resolve();
  const { config, hub } = a;
  // With the bundled simulator: in this process (tests), or under the supervisor in the data process, whose
  // demo sends its live requests to the routers' port and hands them its accounts' keys through the hub.
  const demoHere = config.supervision ? config.supervision.demo : config.demo.mode === 'auto' && config.role === 'all' && deps.simulator !== undefined;
  let publicUrl = hub ? undefined : deps.url;
  hub?.on('service', (entries) => {
    for (const [k, v] of entries) if (k === 'url') publicUrl = v;
  });
  // The demo's keys reach the routers as key records (hashes), the way the authority's do.
  const keys = {
    addEphemeral: (secret: string, name: string, account: string) => {
      const key = deps.keys.addEphemeral(secret, name, account);
      const m = keyMessage(key);
      hub?.publish('keys', [[keyMessageKey(m), encodeKeyMessage(m)]]);
      return key;
    },
  };
  if (demoHere && clickhouse) {
    // A development part, loaded only for the bundled demo.
    backfilled = import('../../dev/population/demo.ts')
      .then(({ Demo }) => {
        if (halted) return;
        const d = new Demo({ clickhouse, catalog: deps.catalog, keys, log: a.logger.child({ part: 'demo' }), url: () => publicUrl }, a.config.demo);
        demo = d;
        return d.start();
      })
      .catch((err) => a.logger.error({ err }, 'demo backfill failed'));
  }
  const computedAhead = a.analyzes && clickhouse ? backfilled.then(() => computeAhead(clickhouse, warmup, a.logger)) : Promise.resolve(false);
  // The key being computed when stopped finishes before its engine closes.
  a.onStop('read', 'figure computed ahead', () => computedAhead, SHUTDOWN_READ_LIMIT_MS);
  return {
    computedAhead,
    halt: () => {
      halted = true;
      demo?.stop();
      warmup.stop();
    },
  };
}

/**
 * The public figures' default views computed before anyone asks (after the demo's backfill, when one runs),
 * so the first caller after a start is answered from memory like every later one. An empty database has
 * nothing worth computing: its first figures are made on demand once rows arrive.
 */
async function computeAhead(clickhouse: ClickHouseClient, warmup: Warmup, logger: Logger): Promise<boolean> {
  try {
    if (warmup.isStopped || !(await hasRequests(clickhouse))) return false;
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
