// Bradley–Terry strengths from pairwise outcomes ("winner beat loser"), fitted with Hunter's MM algorithm
// to convergence, with 95% intervals from a bootstrap over outcomes. A weak symmetric prior (one virtual
// win and one virtual loss against a reference of strength 1) keeps a model that never lost, or never
// won, finite, and makes MM converge in a reasonable number of steps.

export interface Outcome {
  winner: string;
  loser: string;
}

export interface Score {
  item: string;
  score: number; // log-strength, centred so the mean is 0
  low: number;
  high: number;
  comparisons: number;
}

/** Deterministic pseudo-random numbers (mulberry32), so bootstraps are repeatable. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fit(outcomes: readonly Outcome[], items: readonly string[], maxIterations = 5000, start?: Map<string, number>): Map<string, number> {
  const index = new Map(items.map((x, i) => [x, i]));
  const n = items.length;
  const wins = new Float64Array(n).fill(1); // prior: one virtual win…
  const games = new Map<number, number>(); // pair key → comparisons
  for (const o of outcomes) {
    const w = index.get(o.winner);
    const l = index.get(o.loser);
    if (w === undefined || l === undefined || w === l) continue;
    wins[w] += 1;
    const key = w < l ? w * n + l : l * n + w;
    games.set(key, (games.get(key) ?? 0) + 1);
  }
  // MM converges slowly from flat; a bootstrap starts from the point estimate, which is close.
  let p = Float64Array.from(items, (x) => Math.exp(start?.get(x) ?? 0));
  for (let it = 0; it < maxIterations; it++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let denom = 2 / (p[i] + 1); // …and one virtual loss: two games against a strength-1 reference
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const g = games.get(i < j ? i * n + j : j * n + i);
        if (g) denom += g / (p[i] + p[j]);
      }
      next[i] = wins[i] / denom;
    }
    const mean = next.reduce((s, x) => s + Math.log(x), 0) / n;
    const centred = next.map((x) => Math.exp(Math.log(x) - mean));
    let change = 0;
    for (let i = 0; i < n; i++) change = Math.max(change, Math.abs(Math.log(centred[i] / p[i])));
    p = centred;
    if (change < 1e-9) break;
  }
  return new Map(items.map((x, i) => [x, Math.log(p[i])]));
}

export function scores(outcomes: readonly Outcome[], opts: { resamples?: number; seed?: number } = {}): Score[] {
  const items = [...new Set(outcomes.flatMap((o) => [o.winner, o.loser]))].sort();
  if (items.length === 0) return [];
  const point = fit(outcomes, items);
  const random = seededRandom(opts.seed ?? 1);
  const samples = new Map(items.map((x) => [x, [] as number[]]));
  for (let b = 0; b < (opts.resamples ?? 200); b++) {
    const resample = Array.from({ length: outcomes.length }, () => outcomes[Math.floor(random() * outcomes.length)]);
    for (const [item, s] of fit(resample, items, 2000, point)) samples.get(item)!.push(s);
  }
  const comparisons = new Map<string, number>();
  for (const o of outcomes) for (const x of [o.winner, o.loser]) comparisons.set(x, (comparisons.get(x) ?? 0) + 1);
  return items
    .map((item) => {
      const s = samples.get(item)!.sort((a, b) => a - b);
      return { item, score: point.get(item)!, low: s[Math.floor(0.025 * s.length)], high: s[Math.min(s.length - 1, Math.floor(0.975 * s.length))], comparisons: comparisons.get(item) ?? 0 };
    })
    .sort((a, b) => b.score - a.score || a.item.localeCompare(b.item));
}

/** Kendall's tau-b between two orderings of the same items (1: same order, -1: reversed). */
export function kendallTau(a: readonly string[], b: readonly string[]): number {
  const pos = new Map(b.map((x, i) => [x, i]));
  const common = a.filter((x) => pos.has(x));
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < common.length; i++) {
    for (let j = i + 1; j < common.length; j++) {
      const d = pos.get(common[i])! - pos.get(common[j])!;
      if (d < 0) concordant++;
      else if (d > 0) discordant++;
    }
  }
  const pairs = concordant + discordant;
  return pairs === 0 ? 0 : (concordant - discordant) / pairs;
}
