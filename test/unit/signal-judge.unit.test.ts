import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { judge, type JudgeState, type LongStats, type Peers, type WindowStats } from '../../analytics/signals/judge.ts';

const cfg = loadConfig({}).signals;
const NO_LONG: LongStats = { uptime_5m: null, uptime_30m: null, uptime_1d: null, baseline_ttft_p50_ms: null, baseline_latency_p50_ms: null };
const NO_PEERS: Peers = { ttft_p50_ms: null, latency_p50_ms: null, error_rate: null };
const T = 1_700_000_000_000;

const win = (over: Partial<WindowStats> = {}): WindowStats => {
  const w: WindowStats = {
    endpoint_id: 'e',
    provider: 'p',
    model: 'm',
    requests: 50,
    streak: 50,
    ok: 50,
    failed: 0,
    limited: 0,
    by_class: {},
    latency_p50_ms: 400,
    latency_p95_ms: 600,
    ttft_p50_ms: 200,
    ttft_p95_ms: 300,
    tokens_per_second: 80,
    peak_accepted_per_s: 9,
    limited_recent: 0,
    recent: 10,
    attempts_window: 100,
    limited_window: 0,
    ...over,
  };
  // Unless told, the latest failure is the newest attempt when there are any.
  if (over.streak === undefined) w.streak = w.failed > 0 ? 0 : w.requests;
  return w;
};
const state = (over: Partial<JudgeState> = {}): JudgeState => ({ status: 'healthy', since: T - 60_000, cause: null, cap: null, ttftNormal: 200, latencyNormal: 400, ...over });

describe('endpoint status judgement', () => {
  it('a failure share at the down threshold is down; 429 and 400/413 are not failures', () => {
    expect(judge(win({ ok: 25, failed: 25 }), NO_LONG, NO_PEERS, state(), cfg, T).status).toBe('down');
    expect(judge(win({ ok: 30, failed: 0, limited: 20, requests: 50 }), NO_LONG, NO_PEERS, state(), cfg, T).status).toBe('degraded'); // by 429 share, not as failures
    const j = judge(win({ ok: 26, failed: 24 }), NO_LONG, NO_PEERS, state(), cfg, T);
    expect(j.status).toBe('degraded');
    expect(j.error_rate).toBeCloseTo(0.48, 9);
  });

  it("an error rate its peers share too is the model's problem, not this endpoint's", () => {
    const w = win({ ok: 44, failed: 6 }); // 12%
    expect(judge(w, NO_LONG, { ...NO_PEERS, error_rate: 0.11 }, state(), cfg, T).status).toBe('healthy');
    expect(judge(w, NO_LONG, { ...NO_PEERS, error_rate: 0 }, state(), cfg, T).status).toBe('degraded');
  });

  it('slow means slow against its own normal and against its peers, never against peers alone', () => {
    const slow = win({ ttft_p50_ms: 2000 });
    expect(judge(slow, NO_LONG, { ...NO_PEERS, ttft_p50_ms: 210 }, state(), cfg, T).status).toBe('degraded');
    // All endpoints of the model slowed together: moving traffic would not help.
    expect(judge(slow, NO_LONG, { ...NO_PEERS, ttft_p50_ms: 1900 }, state(), cfg, T).status).toBe('healthy');
    // No normal of its own yet (fresh start): an endpoint slower than its peers by nature is not degraded.
    expect(judge(slow, NO_LONG, { ...NO_PEERS, ttft_p50_ms: 210 }, state({ ttftNormal: null, latencyNormal: null }), cfg, T).status).toBe('healthy');
    // The minute baseline is its normal when there is one.
    expect(judge(slow, { ...NO_LONG, baseline_ttft_p50_ms: 1800 }, { ...NO_PEERS, ttft_p50_ms: 210 }, state({ ttftNormal: 200 }), cfg, T).status).toBe('healthy');
  });

  it('learns its normal only from healthy intervals', () => {
    const fresh = judge(win({ ttft_p50_ms: 300 }), NO_LONG, NO_PEERS, state({ ttftNormal: null }), cfg, T);
    expect(fresh.ttftNormal).toBe(300);
    const moved = judge(win({ ttft_p50_ms: 400 }), NO_LONG, NO_PEERS, state({ ttftNormal: 300 }), cfg, T);
    expect(moved.ttftNormal).toBeGreaterThan(300);
    expect(moved.ttftNormal).toBeLessThan(320);
    const bad = judge(win({ ttft_p50_ms: 5000, ok: 20, failed: 30 }), NO_LONG, NO_PEERS, state({ ttftNormal: 300 }), cfg, T);
    expect(bad.ttftNormal).toBe(300);
  });

  it('too few attempts keep the status; a clean run of probes starts recovery, which ramps to healthy after recoverS', () => {
    expect(judge(win({ requests: 2, ok: 1, failed: 1 }), NO_LONG, NO_PEERS, state({ status: 'down' }), cfg, T).status).toBe('down');
    const rec = judge(win({ requests: 3, ok: 3 }), NO_LONG, NO_PEERS, state({ status: 'down', since: T - 5000 }), cfg, T);
    expect(rec).toMatchObject({ status: 'recovering', since: T });
    // The window still holds the outage's failures, but the latest attempts all succeeded.
    expect(judge(win({ requests: 20, ok: 8, failed: 12, streak: 3 }), NO_LONG, NO_PEERS, state({ status: 'down' }), cfg, T).status).toBe('recovering');
    expect(judge(win({ requests: 20, ok: 8, failed: 12, streak: 2 }), NO_LONG, NO_PEERS, state({ status: 'down' }), cfg, T).status).toBe('down');
    // A slow endpoint succeeds all along: a streak proves nothing, its latest attempts must be fast.
    const slowState = state({ status: 'degraded', cause: 'slow', ttftNormal: 200 });
    expect(judge(win({ requests: 4, ok: 4, ttft_p50_ms: 2000 }), NO_LONG, NO_PEERS, slowState, cfg, T).status).toBe('degraded');
    expect(judge(win({ requests: 8, ok: 8, ttft_p50_ms: 2000 }), NO_LONG, NO_PEERS, slowState, cfg, T).status).toBe('degraded');
    expect(judge(win({ requests: 8, ok: 8, ttft_p50_ms: 210 }), NO_LONG, NO_PEERS, slowState, cfg, T).status).toBe('recovering');
    const still = judge(win(), NO_LONG, NO_PEERS, { ...state(), status: 'recovering', since: T }, cfg, T + cfg.recoverS * 1000 - 1);
    expect(still).toMatchObject({ status: 'recovering', since: T });
    const done = judge(win(), NO_LONG, NO_PEERS, { ...state(), status: 'recovering', since: T }, cfg, T + cfg.recoverS * 1000);
    expect(done).toMatchObject({ status: 'healthy', since: T + cfg.recoverS * 1000 });
    // A relapse while recovering goes straight back.
    expect(judge(win({ ok: 10, failed: 40 }), NO_LONG, NO_PEERS, { ...state(), status: 'recovering', since: T }, cfg, T + 1000).status).toBe('down');
  });

  it('a status kept keeps its since; a new one starts now', () => {
    expect(judge(win({ ok: 0, failed: 50 }), NO_LONG, NO_PEERS, state({ status: 'down', since: T - 9000 }), cfg, T).since).toBe(T - 9000);
    expect(judge(win({ ok: 0, failed: 50 }), NO_LONG, NO_PEERS, state({ status: 'healthy', since: T - 9000 }), cfg, T).since).toBe(T);
  });
});

describe('learned traffic cap', () => {
  it('is set below its best second of accepted attempts once 429s pass the trigger', () => {
    // 30 of 100 attempts in the window answered 429; at best it accepted 9 in one second.
    const w = win({ attempts_window: 100, limited_window: 30, limited: 15, ok: 35, limited_recent: 3 });
    const first = judge(w, NO_LONG, NO_PEERS, state(), cfg, T);
    expect(first.cap).toBeCloseTo(9 * cfg.capMargin, 9);
    // A cap learned low during a quiet stretch is replaced, not kept.
    expect(judge(w, NO_LONG, NO_PEERS, state({ cap: 1 }), cfg, T).cap).toBeCloseTo(9 * cfg.capMargin, 9);
    // 429s only remembered by the window, none lately: nothing learned.
    expect(judge({ ...w, limited_recent: 0 }, NO_LONG, NO_PEERS, state(), cfg, T).cap).toBeNull();
    // Held by the fleet, its traffic is what routers allow it, not what it can take.
    expect(judge(w, NO_LONG, NO_PEERS, state({ status: 'degraded', cause: 'rate_limited' }), cfg, T).cap).toBeNull();
  });

  it('grows back while no 429 comes, holds while a few do, and is forgotten when it no longer binds', () => {
    const rate = 100 / cfg.windowS;
    expect(judge(win({ attempts_window: 100, limited_window: 0 }), NO_LONG, NO_PEERS, state({ cap: rate }), cfg, T).cap).toBeCloseTo(rate * (1 + cfg.capGrowth) + 0.1, 9);
    expect(judge(win({ attempts_window: 100, limited_window: 1 }), NO_LONG, NO_PEERS, state({ cap: rate }), cfg, T).cap).toBe(rate);
    expect(judge(win({ attempts_window: 10, limited_window: 0 }), NO_LONG, NO_PEERS, state({ cap: 50 }), cfg, T).cap).toBeNull();
  });

  it('under a cap, 429s short of a storm move the cap, not the status; a storm still degrades it', () => {
    const w = win({ attempts_window: 100, limited_window: 30, requests: 50, limited: 15, ok: 35, limited_recent: 3 });
    expect(judge(w, NO_LONG, NO_PEERS, state(), cfg, T)).toMatchObject({ status: 'healthy', cap: 9 * cfg.capMargin });
    expect(judge({ ...w, limited_recent: 0 }, NO_LONG, NO_PEERS, state(), cfg, T)).toMatchObject({ status: 'degraded', cap: null });
    expect(judge(win({ attempts_window: 100, limited_window: 95, requests: 50, limited: 48, ok: 2 }), NO_LONG, NO_PEERS, state({ cap: 3 }), cfg, T).status).toBe('degraded');
  });

  it('a storm forgets a cap learned before it, so the endpoint comes back at full weight', () => {
    // The storm's onset: the window still holds answers from before, so a cap was learned from them.
    const onset = judge(win({ attempts_window: 100, limited_window: 40, requests: 50, limited: 20, ok: 30, limited_recent: 5, recent: 10 }), NO_LONG, NO_PEERS, state(), cfg, T);
    expect(onset).toMatchObject({ status: 'healthy', cap: 9 * cfg.capMargin });
    const storm = judge(
      win({ attempts_window: 100, limited_window: 95, requests: 50, limited: 48, ok: 2, limited_recent: 10, recent: 10 }),
      NO_LONG,
      NO_PEERS,
      onset,
      cfg,
      T + 1000,
    );
    expect(storm).toMatchObject({ status: 'degraded', cause: 'rate_limited', cap: null });
    // The sample still holds the answers from before the storm, but its latest seconds refuse everything:
    // a storm now, not a capacity being found, and it need not wait for the sample to pass 90%.
    const early = judge(
      win({ attempts_window: 100, limited_window: 50, requests: 50, limited: 25, ok: 25, limited_recent: 10, recent: 10 }),
      NO_LONG,
      NO_PEERS,
      state({ cap: 3 }),
      cfg,
      T,
    );
    expect(early).toMatchObject({ status: 'degraded', cause: 'rate_limited', cap: null });
    expect(early.reason).toBe('all of its 10 latest attempts answered 429');
    // At its capacity some latest attempts are still accepted: the cap moves, not the status.
    expect(
      judge(win({ attempts_window: 100, limited_window: 50, requests: 50, limited: 25, ok: 25, limited_recent: 19, recent: 20 }), NO_LONG, NO_PEERS, state({ cap: 3 }), cfg, T),
    ).toMatchObject({ status: 'healthy' });
    // Too few latest attempts to call it a storm: under the cap, the 429s move the cap.
    expect(
      judge(win({ attempts_window: 100, limited_window: 50, requests: 50, limited: 25, ok: 25, limited_recent: 3, recent: 3 }), NO_LONG, NO_PEERS, state({ cap: 3 }), cfg, T),
    ).toMatchObject({ status: 'healthy', cap: 3 });
    // Errors and slowness say nothing against its capacity: a cap stays through them.
    expect(judge(win({ attempts_window: 100, limited_window: 1, requests: 50, limited: 1, ok: 24, failed: 25 }), NO_LONG, NO_PEERS, state({ cap: 3 }), cfg, T)).toMatchObject({
      status: 'down',
      cap: 3,
    });
  });

  it('learns nothing from a storm that refuses nearly everything: that is an outage, and the status says so', () => {
    const storm = judge(win({ attempts_window: 100, limited_window: 95, requests: 50, limited: 48, ok: 2 }), NO_LONG, NO_PEERS, state(), cfg, T);
    expect(storm.cap).toBeNull();
    expect(storm.status).toBe('degraded');
    // Its onset: the window still holds the successes from before, but the last seconds are all 429.
    expect(
      judge(win({ attempts_window: 100, limited_window: 40, requests: 50, limited: 30, ok: 20, limited_recent: 10, recent: 10 }), NO_LONG, NO_PEERS, state(), cfg, T).cap,
    ).toBeNull();
  });
});
