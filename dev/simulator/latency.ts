// Latency that looks like real serving: log-normal jitter around the endpoint's median, plus a heavy tail
// (a few requests several times slower), which is what makes p99 differ from p50 in practice.

/** Standard normal via Box–Muller. */
function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface LatencyDraw {
  ttftMs: number;
  msPerToken: number;
}

export function drawLatency(ttftMedianMs: number, tokensPerSecond: number, scale: number, random: () => number = Math.random): LatencyDraw {
  if (scale === 0) return { ttftMs: 0, msPerToken: 0 };
  const tail = random() < 0.02 ? 3 + random() * 5 : 1;
  const ttftMs = ttftMedianMs * Math.exp(0.35 * gaussian(random)) * tail * scale;
  const tps = tokensPerSecond * Math.exp(0.2 * gaussian(random));
  return { ttftMs, msPerToken: (1000 / Math.max(tps, 0.1)) * scale };
}
