// How analytics judges an endpoint: against its own baseline and its peers serving the same model, with
// memory of its previous status (hysteresis: a recovering endpoint earns its weight back over time) and a
// learned traffic cap (the rate above which it answers 429). Pure: the computer feeds it query results.
import type { SignalConfig } from '../../core/config.ts';
import { isHeld, type EndpointStatus } from '../../telemetry/signal.ts';

/** One endpoint's attempts in the window: counts over the latest `sampleMax`, rates over the whole window. */
export interface WindowStats {
  endpoint_id: string;
  provider: string;
  model: string;
  requests: number;
  /** Attempts since the latest failure, counted back past the window (over STREAK_LOOKBACK_S): all of them when none failed. */
  streak: number;
  ok: number;
  failed: number;
  limited: number;
  by_class: Record<string, number>;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
  tokens_per_second: number | null;
  /** The most attempts it accepted (not 429) in any one second of the window that also saw a 429. */
  peak_accepted_per_s: number;
  /** Attempts, and 429s among them, in the last two seconds or so: whether it is refusing now. */
  recent: number;
  limited_recent: number;
  /** Over the whole window, not only the sample. */
  attempts_window: number;
  limited_window: number;
}

/** What the minute aggregates say: uptimes and the endpoint's own normal. */
export interface LongStats {
  uptime_5m: number | null;
  uptime_30m: number | null;
  uptime_1d: number | null;
  baseline_ttft_p50_ms: number | null;
  baseline_latency_p50_ms: number | null;
}

export interface Peers {
  ttft_p50_ms: number | null;
  latency_p50_ms: number | null;
  error_rate: number | null;
}

/** What made an endpoint unhealthy: recovery is judged on the same evidence. */
export type Cause = 'errors' | 'rate_limited' | 'slow';

export interface JudgeState {
  status: EndpointStatus;
  since: number;
  cause: Cause | null;
  cap: number | null;
  /** Its normal, learned while healthy: stands in for the minute baseline until there is one (a fresh start). */
  ttftNormal: number | null;
  latencyNormal: number | null;
}

export interface Judgement extends JudgeState {
  reason: string;
  error_rate: number;
  rate_limited_rate: number;
}

export const errorRate = (w: Pick<WindowStats, 'ok' | 'failed'>): number => (w.ok + w.failed === 0 ? 0 : w.failed / (w.ok + w.failed));

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** Slow against its own normal and against its peers (where it has any): a provider problem, not the model's.
 * Without a normal of its own nothing is judged slow: some endpoints are slower than their peers by nature. */
function slowness(value: number | null, own: number | null, peer: number | null, factor: number): number | undefined {
  if (value === null || own === null) return undefined;
  const ratios = [own, peer].filter((r): r is number => r !== null && r > 0).map((r) => value / r);
  if (ratios.length === 0 || ratios.some((r) => r < factor)) return undefined;
  return Math.min(...ratios);
}

/** Above this 429 share the endpoint is refusing nearly everything: an outage (its status says so), not a capacity to learn. */
const CAPACITY_MAX_LIMITED = 0.9;

/** The 429 share of its attempts in the last seconds or so: whether it is refusing now. */
const latestLimited = (w: WindowStats) => (w.recent === 0 ? 0 : w.limited_recent / w.recent);

type Verdict = { status: 'healthy' | 'degraded' | 'down'; reason: string; cause?: Cause } | undefined;

/** Latest attempts in a row without a failure that show an unhealthy endpoint answering again. */
const RECOVERY_STREAK = 3;

function verdict(
  w: WindowStats,
  own: { ttft: number | null; latency: number | null },
  peers: Peers,
  unhealthy: boolean,
  prevCause: Cause | null,
  capped: boolean,
  cfg: SignalConfig,
): Verdict {
  // Few attempts reach an unhealthy endpoint (its probe share), and the window still holds its failures:
  // a run of successes since the latest failure is what shows it is back. Only for failures and 429s: a
  // slow endpoint answers successfully all along, so its recovery needs enough attempts that are fast.
  const answering = unhealthy && prevCause !== 'slow' && w.streak >= RECOVERY_STREAK && (prevCause !== 'rate_limited' || w.limited === 0);
  const err = answering ? 0 : errorRate(w);
  const limited = w.requests === 0 ? 0 : w.limited / w.requests;
  if (w.requests < cfg.minRequests) {
    if (answering && w.limited === 0) return { status: 'healthy', reason: `the last ${w.streak} attempts succeeded` };
    return undefined;
  }
  if (err >= cfg.downErrorRate) return { status: 'down', cause: 'errors', reason: `${pct(err)} of the last ${w.requests} attempts failed` };
  if (err >= cfg.degradedErrorRate && (peers.error_rate === null || err >= peers.error_rate + cfg.degradedErrorRate / 2)) {
    return {
      status: 'degraded',
      cause: 'errors',
      reason: `${pct(err)} of the last ${w.requests} attempts failed${peers.error_rate === null ? '' : ` (peers ${pct(peers.error_rate)})`}`,
    };
  }
  // Under a learned cap, 429s short of a storm are its capacity being found again (the cap follows them):
  // holding the endpoint at its probe share as well would waste the capacity it has.
  if (limited >= cfg.rateLimitedRate && (!capped || limited > CAPACITY_MAX_LIMITED))
    return { status: 'degraded', cause: 'rate_limited', reason: `${pct(limited)} of the last ${w.requests} attempts answered 429` };
  // A storm shows first in the latest seconds: the sample still holds the answers from before it began, and
  // under a cap (one learned at its onset, from those answers) it would take the sample many seconds to pass
  // 90%. Every latest attempt refused, not 90%: an endpoint at its capacity still accepts some each second,
  // and at 90% a capacity drill under load was once taken for a storm (its cap forgotten, then relearned at 0.1/s).
  if (w.recent >= cfg.minRequests && w.limited_recent === w.recent)
    return { status: 'degraded', cause: 'rate_limited', reason: `all of its ${w.recent} latest attempts answered 429` };
  const ttft = slowness(w.ttft_p50_ms, own.ttft, peers.ttft_p50_ms, cfg.slowFactor);
  if (ttft !== undefined) return { status: 'degraded', cause: 'slow', reason: `time to first token ${Math.round(w.ttft_p50_ms!)} ms, ${ttft.toFixed(1)}× its baseline and peers` };
  const lat = slowness(w.latency_p50_ms, own.latency, peers.latency_p50_ms, cfg.slowFactor);
  if (lat !== undefined) return { status: 'degraded', cause: 'slow', reason: `latency ${Math.round(w.latency_p50_ms!)} ms, ${lat.toFixed(1)}× its baseline and peers` };
  return { status: 'healthy', reason: answering ? `the last ${w.streak} attempts succeeded` : `${w.requests} recent attempts look normal` };
}

/** Growth also has an additive part, so a cap learned low climbs back in reasonable time. */
const CAP_STEP_RPS = 0.1;

/** The learned cap: below what the endpoint accepted once it began answering 429, then grown back slowly. */
function learnCap(w: WindowStats, prevCap: number | null, held: boolean, cfg: SignalConfig): number | null {
  const rate = w.attempts_window / cfg.windowS;
  const limitedShare = w.attempts_window === 0 ? 0 : w.limited_window / w.attempts_window;
  // The last seconds decide whether it is refusing nearly everything now: the window can still hold the
  // successes from before a storm began, and a cap learned from those would outlive the storm.
  // While held (down, degraded) its traffic is what the routers allow it, not what it can take: nothing to learn.
  // And only while 429s are still coming: a window that merely remembers them says nothing of capacity now.
  if (
    !held &&
    w.limited_recent > 0 &&
    w.attempts_window >= cfg.minRequests &&
    limitedShare >= cfg.capTrigger &&
    limitedShare <= CAPACITY_MAX_LIMITED &&
    latestLimited(w) <= CAPACITY_MAX_LIMITED
  ) {
    // Its best saturated second (one that also answered 429): demand exceeded its capacity then, and
    // averages would mix in the seconds when the fleet held it back. Replaces (not lowers) the previous cap, so a
    // quiet stretch cannot ratchet it down.
    return Math.max(CAP_STEP_RPS, w.peak_accepted_per_s * cfg.capMargin);
  }
  if (prevCap === null || w.limited_window > 0) return prevCap;
  const grown = prevCap * (1 + cfg.capGrowth) + CAP_STEP_RPS;
  // Far above what the fleet sends: the cap no longer binds, forget it (a new 429 storm teaches it again).
  return grown > 2 * rate + 5 ? null : grown;
}

/** Weight of the newest healthy interval in the learned normal (about twenty intervals of memory). */
const NORMAL_ALPHA = 0.05;
const learn = (old: number | null, v: number | null) => (v === null ? old : old === null ? v : old + NORMAL_ALPHA * (v - old));

export function judge(w: WindowStats, long: LongStats, peers: Peers, prev: JudgeState | undefined, cfg: SignalConfig, now: number): Judgement {
  const prevStatus = prev?.status ?? 'healthy';
  const own = { ttft: long.baseline_ttft_p50_ms ?? prev?.ttftNormal ?? null, latency: long.baseline_latency_p50_ms ?? prev?.latencyNormal ?? null };
  const held = isHeld(prevStatus);
  const learned = learnCap(w, prev?.cap ?? null, held, cfg);
  const v = verdict(w, own, peers, held, prev?.cause ?? null, learned !== null, cfg);
  // Under a cap only a storm (nearly every attempt refused) gives a 429 verdict, and a storm is an outage:
  // a cap learned at its onset, from the last seconds that still answered, would hold the endpoint below
  // its capacity long after the storm.
  const cap = v?.cause === 'rate_limited' ? null : learned;
  const normal = v?.status === 'healthy' && prevStatus === 'healthy' && w.requests >= cfg.minRequests;
  const base = {
    error_rate: errorRate(w),
    rate_limited_rate: w.requests === 0 ? 0 : w.limited / w.requests,
    cap,
    ttftNormal: normal ? learn(prev?.ttftNormal ?? null, w.ttft_p50_ms) : (prev?.ttftNormal ?? null),
    latencyNormal: normal ? learn(prev?.latencyNormal ?? null, w.latency_p50_ms) : (prev?.latencyNormal ?? null),
  };
  const keep = (reason: string, cause = prev?.cause ?? null): Judgement => ({ ...base, status: prevStatus, since: prev?.since ?? now, reason, cause });
  const become = (status: EndpointStatus, reason: string, cause: Cause | null = null): Judgement =>
    status === prevStatus ? keep(reason, cause ?? prev?.cause ?? null) : { ...base, status, since: now, reason, cause };
  const recovered = prevStatus === 'recovering' && now - (prev?.since ?? now) >= cfg.recoverS * 1000;

  if (v === undefined) {
    if (recovered) return become('healthy', 'recovered');
    return keep(prevStatus === 'healthy' ? `too few attempts to judge (${w.requests})` : `too few attempts to judge (${w.requests}); status kept`);
  }
  if (v.status !== 'healthy') return become(v.status, v.reason, v.cause);
  if (held) return cfg.recoverS === 0 ? become('healthy', v.reason) : become('recovering', v.reason);
  if (prevStatus === 'recovering' && !recovered) return keep(`${v.reason}; ramping back`);
  return become('healthy', v.reason);
}
