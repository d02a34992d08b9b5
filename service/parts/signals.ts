// The closed loop: analytics judges every endpoint and publishes the verdicts (straight into this
// process's table, and to the compacted topic in cluster mode); a router without analytics reads them
// from the topic. Routers fold them into their weights, and a verdict of recovery lets a breaker probe.
import { SignalComputer } from '../../analytics/signals/computer.ts';
import type { HealthRegistry } from '../../router/health/registry.ts';
import { SignalTable } from '../../router/health/signals.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import { SignalProducer, SignalSubscriber } from '../../telemetry/signal-topic.ts';
import type { Assembly } from './assembly.ts';

export interface SignalParts {
  signals: SignalTable;
  /** Analytics role: computes and publishes the signals. */
  computer: SignalComputer | undefined;
}

export function startSignals(a: Assembly, health: HealthRegistry, clickhouse: ClickHouseClient | undefined): SignalParts {
  const { kafka, logger } = a;
  const sc = a.config.signals;
  const routes = a.routes;
  const signals = new SignalTable(
    { maxAgeMs: sc.maxAgeMs, probeShare: sc.probeShare, degradedShare: sc.degradedShare, recoverMs: sc.recoverS * 1000, minRequests: sc.minRequests },
    (s) => {
      if (routes && (s.status === 'recovering' || s.status === 'healthy')) health.get(s.endpoint_id).breaker.nudge(s.status_since);
    },
  );
  const log = logger.child({ part: 'signals' });
  if (a.analyzes && clickhouse) {
    const producer = kafka ? new SignalProducer(kafka, a.topics.signals, log) : undefined;
    const computer = new SignalComputer(
      clickhouse,
      sc,
      async (list) => {
        signals.update(list);
        await producer?.publish(list);
      },
      log,
    );
    computer.start();
    a.onStop('produce', 'signal computer', () => computer.stop());
    if (producer) a.onStop('produce', 'signal producer', () => producer.stop().catch(() => undefined));
    return { signals, computer };
  }
  if (routes && kafka) {
    const subscriber = new SignalSubscriber(kafka, a.topics.signals, (list) => signals.update(list), log);
    subscriber.start();
    a.onStop('produce', 'signal subscriber', () => subscriber.stop().catch(() => undefined));
  }
  return { signals, computer: undefined };
}
