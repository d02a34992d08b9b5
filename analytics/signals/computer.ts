// The analytics side of the closed loop: every SIGNALS_INTERVAL_MS, judge every endpoint seen in the last
// day and publish one signal each (in-process to the embedded router, or to the compacted topic).
import type { SignalConfig } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { SIGNAL_VERSION, type EndpointSignal } from '../../telemetry/signal.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import { errorRate, judge, median, type JudgeState, type LongStats, type Peers, type WindowStats } from './judge.ts';
import { readLong, readWindow } from './queries.ts';

/** Uptimes and baselines move by the minute: reading them every few ticks is plenty. */
const LONG_EVERY_MS = 5_000;

export type SignalPublisher = (signals: EndpointSignal[]) => void | Promise<void>;

const EMPTY_LONG: LongStats = { uptime_5m: null, uptime_30m: null, uptime_1d: null, baseline_ttft_p50_ms: null, baseline_latency_p50_ms: null };

const emptyWindow = (endpoint_id: string, provider: string, model: string): WindowStats => ({
  endpoint_id,
  provider,
  model,
  requests: 0,
  streak: 0,
  ok: 0,
  failed: 0,
  limited: 0,
  by_class: {},
  latency_p50_ms: null,
  latency_p95_ms: null,
  ttft_p50_ms: null,
  ttft_p95_ms: null,
  tokens_per_second: null,
  peak_accepted_per_s: 0,
  limited_recent: 0,
  recent: 0,
  attempts_window: 0,
  limited_window: 0,
});

/** Peers of an endpoint: the other endpoints of its model with enough attempts to say something. */
function peersOf(w: WindowStats, byModel: Map<string, WindowStats[]>, minRequests: number): Peers {
  const others = (byModel.get(w.model) ?? []).filter((o) => o.endpoint_id !== w.endpoint_id && o.requests >= minRequests);
  const vals = (f: (o: WindowStats) => number | null) => others.map(f).filter((x): x is number => x !== null);
  return { ttft_p50_ms: median(vals((o) => o.ttft_p50_ms)), latency_p50_ms: median(vals((o) => o.latency_p50_ms)), error_rate: median(others.map(errorRate)) };
}

export class SignalComputer {
  private readonly state = new Map<string, JudgeState>();
  private long = new Map<string, LongStats>();
  private longAt = 0;
  /** Where each endpoint belongs, remembered from the window (the minute aggregate has no provider/model join here). */
  private readonly names = new Map<string, { provider: string; model: string }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  ticks = 0;
  failures = 0;
  lastTickMs = 0;

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly cfg: SignalConfig,
    private readonly publish: SignalPublisher,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      const started = this.clock();
      this.running = this.tick()
        .catch((err) => {
          this.failures++;
          this.log.warn({ err }, 'signal computation failed; retrying next interval');
        })
        .finally(() => {
          this.running = undefined;
          this.lastTickMs = this.clock() - started;
          if (!this.stopped) this.timer = setTimeout(loop, Math.max(0, this.cfg.intervalMs - this.lastTickMs));
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round: read, judge, publish. Returns what it published. */
  async tick(now = this.clock()): Promise<EndpointSignal[]> {
    const cfg = this.cfg;
    const [window, long] = await Promise.all([
      readWindow(this.clickhouse, now, cfg.windowS, cfg.sampleMax, cfg.latencySample),
      now - this.longAt >= LONG_EVERY_MS ? readLong(this.clickhouse, now, cfg.windowS, cfg.baselineMinutes) : undefined,
    ]);
    if (long) {
      this.long = long;
      this.longAt = now;
    }
    const byId = new Map(window.map((w) => [w.endpoint_id, w]));
    for (const w of window) this.names.set(w.endpoint_id, { provider: w.provider, model: w.model });
    // Endpoints quiet in the window still get a signal (uptimes, a status held or recovering) when known.
    for (const id of new Set([...this.long.keys(), ...this.state.keys()])) {
      const n = this.names.get(id);
      if (!byId.has(id) && n) byId.set(id, emptyWindow(id, n.provider, n.model));
    }
    const byModel = new Map<string, WindowStats[]>();
    for (const w of byId.values()) byModel.set(w.model, [...(byModel.get(w.model) ?? []), w]);

    const signals: EndpointSignal[] = [];
    for (const w of byId.values()) {
      const l = this.long.get(w.endpoint_id) ?? EMPTY_LONG;
      const peers = peersOf(w, byModel, cfg.minRequests);
      const j = judge(w, l, peers, this.state.get(w.endpoint_id), cfg, now);
      this.state.set(w.endpoint_id, { status: j.status, since: j.since, cause: j.cause, cap: j.cap, ttftNormal: j.ttftNormal, latencyNormal: j.latencyNormal });
      signals.push({
        v: SIGNAL_VERSION,
        endpoint_id: w.endpoint_id,
        provider: w.provider,
        model: w.model,
        computed_at: now,
        status: j.status,
        status_since: j.since,
        reason: j.reason.slice(0, 500),
        window_s: cfg.windowS,
        requests: w.requests,
        attempts_per_second: w.attempts_window / cfg.windowS,
        error_rate: j.error_rate,
        rate_limited_rate: j.rate_limited_rate,
        errors_by_class: w.by_class,
        latency_p50_ms: w.latency_p50_ms,
        latency_p95_ms: w.latency_p95_ms,
        ttft_p50_ms: w.ttft_p50_ms,
        ttft_p95_ms: w.ttft_p95_ms,
        tokens_per_second: w.tokens_per_second,
        uptime_5m: l.uptime_5m,
        uptime_30m: l.uptime_30m,
        uptime_1d: l.uptime_1d,
        baseline_ttft_p50_ms: l.baseline_ttft_p50_ms ?? j.ttftNormal,
        peer_ttft_p50_ms: peers.ttft_p50_ms,
        cap_rps: j.cap,
      });
    }
    this.ticks++;
    await this.publish(signals);
    return signals;
  }
}
