// The closed loop: analytics judges every endpoint and publishes the verdicts (straight into this
// process's table, and to the compacted topic in cluster mode or the supervisor's hub otherwise); a router
// without analytics reads them from there. Routers fold them into their weights, and a verdict of
// recovery lets a breaker probe.
import { SignalComputer } from '../../analytics/signals/computer.ts';
import type { HealthRegistry } from '../../router/health/registry.ts';
import { SignalTable } from '../../router/health/signals.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import { decodeSignal, encodeSignal, type EndpointSignal } from '../../telemetry/signal.ts';
import { SignalProducer, SignalSubscriber } from '../../telemetry/signal-topic.ts';
import type { Assembly } from './assembly.ts';
import { SHUTDOWN_READ_LIMIT_MS } from './store.ts';
import { PreferencePublisher } from '../../analytics/preference/publisher.ts';
import { PreferenceScores } from '../../router/routing/preference-scores.ts';
import { decodePreferenceTable, encodePreferenceTable, preferenceKey } from '../../telemetry/preference-table.ts';

export interface SignalParts {
  signals: SignalTable;
  /** Revealed-preference tables per category, for `switchboard/auto`. */
  preference: PreferenceScores;
  /** Analytics role: computes and publishes the signals. */
  computer: SignalComputer | undefined;
}

export function startSignals(a: Assembly, health: HealthRegistry, clickhouse: ClickHouseClient | undefined): SignalParts {
  const { kafka, logger, hub } = a;
  const sc = a.config.signals;
  const routes = a.routes;
  const signals = new SignalTable(
    { maxAgeMs: sc.maxAgeMs, probeShare: sc.probeShare, degradedShare: sc.degradedShare, recoverMs: sc.recoverS * 1000, minRequests: sc.minRequests },
    (s) => {
      if (routes && (s.status === 'recovering' || s.status === 'healthy')) health.get(s.endpoint_id).breaker.nudge(s.status_since);
    },
  );
  const log = logger.child({ part: 'signals' });
  const preference = new PreferenceScores();
  if (a.analyzes && clickhouse) {
    const producer = kafka ? new SignalProducer(kafka, a.topics.signals, log) : undefined;
    const computer = new SignalComputer(
      clickhouse,
      sc,
      async (list) => {
        signals.update(list);
        await producer?.publish(list);
        if (!producer)
          hub?.publish(
            'signals',
            list.map((s) => [s.endpoint_id, encodeSignal(s)]),
          );
      },
      log,
    );
    computer.start();
    a.onStop('produce', 'signal computer', () => computer.stop());
    const publisher = new PreferencePublisher(
      clickhouse,
      a.config.preferenceRefreshS * 1000,
      async (tables) => {
        for (const t of tables) preference.update(t);
        await producer?.publishPreference(tables);
        if (!producer)
          hub?.publish(
            'preference',
            tables.map((t) => [preferenceKey(t.category), encodePreferenceTable(t)]),
          );
      },
      log,
    );
    publisher.start();
    // It stops between categories; the one being computed finishes within the read limit.
    a.onStop('read', 'preference publisher', () => publisher.stop(), SHUTDOWN_READ_LIMIT_MS);
    if (producer) a.onStop('produce', 'signal producer', () => producer.stop().catch(() => undefined));
    return { signals, preference, computer };
  }
  if (routes && kafka) {
    const subscriber = new SignalSubscriber(
      kafka,
      a.topics.signals,
      (list) => signals.update(list),
      log,
      (t) => preference.update(t),
    );
    subscriber.start();
    a.onStop('produce', 'signal subscriber', () => subscriber.stop().catch(() => undefined));
  } else if (routes && hub) {
    hub.on('signals', (entries) => {
      const list: EndpointSignal[] = [];
      for (const [, value] of entries) {
        const d = decodeSignal(Buffer.from(value, 'utf8'));
        if (d.ok) list.push(d.signal);
        else log.warn({ reason: d.reason }, 'signal skipped');
      }
      signals.update(list);
    });
    hub.on('preference', (entries) => {
      for (const [, value] of entries) {
        const d = decodePreferenceTable(value);
        if (d.ok) preference.update(d.table);
        else log.warn({ reason: d.reason }, 'preference table skipped');
      }
    });
  }
  return { signals, preference, computer: undefined };
}
