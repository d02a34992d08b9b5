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

/** How often `winner` beat `loser`: the sufficient statistic of Bradley–Terry. */
export interface PairCount {
  winner: string;
  loser: string;
  count: number;
}

/** Outcomes counted per ordered pair. */
export function tally(outcomes: readonly Outcome[]): PairCount[] {
  const counts = new Map<string, PairCount>();
  for (const o of outcomes) {
    const key = `${o.winner}\u0000${o.loser}`;
    const c = counts.get(key);
    if (c) c.count++;
    else counts.set(key, { winner: o.winner, loser: o.loser, count: 1 });
  }
  return [...counts.values()];
}

/** Wins per ordered pair of indexes, in one canonical order (the bootstrap's draws follow it). */
type PairCounts = Map<number, number>; // winner * n + loser → wins

function countPairs(pairs: readonly PairCount[], index: Map<string, number>, n: number): PairCounts {
  const counts: PairCounts = new Map();
  const sorted = [...pairs].sort((a, b) => a.winner.localeCompare(b.winner) || a.loser.localeCompare(b.loser));
  for (const p of sorted) {
    const w = index.get(p.winner);
    const l = index.get(p.loser);
    if (w === undefined || l === undefined || w === l || p.count <= 0) continue;
    counts.set(w * n + l, (counts.get(w * n + l) ?? 0) + p.count);
  }
  return counts;
}

function fitCounts(counts: PairCounts, n: number, maxIterations: number, start?: Float64Array): Float64Array {
  const wins = new Float64Array(n).fill(1); // prior: one virtual win…
  const games = new Float64Array(n * n);
  for (const [key, c] of counts) {
    const w = Math.floor(key / n);
    const l = key % n;
    wins[w] += c;
    games[w * n + l] += c;
    games[l * n + w] += c;
  }
  let p = start ? Float64Array.from(start, Math.exp) : new Float64Array(n).fill(1);
  for (let it = 0; it < maxIterations; it++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let denom = 2 / (p[i] + 1); // …and one virtual loss: two games against a strength-1 reference
      for (let j = 0; j < n; j++) {
        const g = games[i * n + j];
        if (g > 0) denom += g / (p[i] + p[j]);
      }
      next[i] = wins[i] / denom;
    }
    let mean = 0;
    for (let i = 0; i < n; i++) mean += Math.log(next[i]) / n;
    let change = 0;
    for (let i = 0; i < n; i++) {
      const v = Math.exp(Math.log(next[i]) - mean);
      change = Math.max(change, Math.abs(Math.log(v / p[i])));
      next[i] = v;
    }
    p = next;
    if (change < 1e-9) break;
  }
  return p.map(Math.log);
}

export function fit(pairs: readonly PairCount[], items: readonly string[], maxIterations = 5000, start?: Map<string, number>): Map<string, number> {
  const index = new Map(items.map((x, i) => [x, i]));
  const s = fitCounts(countPairs(pairs, index, items.length), items.length, maxIterations, start && Float64Array.from(items, (x) => start.get(x) ?? 0));
  return new Map(items.map((x, i) => [x, s[i]]));
}

/** Poisson draw (Knuth for small means, normal approximation above). */
function poisson(mean: number, random: () => number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random())));
  const limit = Math.exp(-mean);
  let k = 0;
  let prod = random();
  while (prod > limit) {
    k++;
    prod *= random();
  }
  return k;
}

/**
 * Scores with 95% intervals from a Poisson bootstrap over pair counts (each count redrawn around itself):
 * the same sampling distribution as resampling outcomes, at the cost of the number of pairs, not outcomes.
 */
export function scores(pairs: readonly PairCount[], opts: { resamples?: number; seed?: number } = {}): Score[] {
  const used = pairs.filter((p) => p.count > 0 && p.winner !== p.loser);
  const items = [...new Set(used.flatMap((p) => [p.winner, p.loser]))].sort();
  const n = items.length;
  if (n === 0) return [];
  const index = new Map(items.map((x, i) => [x, i]));
  const counts = countPairs(used, index, n);
  const point = fitCounts(counts, n, 5000);
  const random = seededRandom(opts.seed ?? 1);
  const samples = items.map(() => [] as number[]);
  for (let b = 0; b < (opts.resamples ?? 200); b++) {
    const resample: PairCounts = new Map();
    for (const [key, c] of counts) {
      const d = poisson(c, random);
      if (d > 0) resample.set(key, d);
    }
    const fitted = fitCounts(resample, n, 2000, point);
    for (let i = 0; i < n; i++) samples[i].push(fitted[i]);
  }
  const comparisons = new Map<string, number>();
  for (const p of used) for (const x of [p.winner, p.loser]) comparisons.set(x, (comparisons.get(x) ?? 0) + p.count);
  return items
    .map((item, i) => {
      const s = samples[i].sort((a, b) => a - b);
      return {
        item,
        score: point[i],
        low: s[Math.floor(0.025 * s.length)],
        high: s[Math.min(s.length - 1, Math.floor(0.975 * s.length))],
        comparisons: comparisons.get(item) ?? 0,
      };
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
