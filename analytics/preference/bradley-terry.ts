// Bradley–Terry scores from pairwise outcomes ("winner beat loser") with 95% intervals that hold their
// coverage when each account contributes many outcomes. Three choices make the scores mean the same thing
// at every sample size:
// - Each pair's outcomes are shrunk a fixed fraction toward even (METHOD.shrink): a pair always won by one side
//   is a finite gap (log 21 ≈ 3.0) however many outcomes it has, so the scale is set by the data's win
//   proportions, not by a prior whose weight fades as the data grows (that made scores drift apart with
//   sample size and intervals miss the value a larger population gives).
// - Scores sum to zero over the scored models (identifiable without a reference item).
// - Intervals come from a delete-one-cluster jackknife: accounts are hashed into clusters and the fit is
//   repeated without each cluster in turn, so an account's outcomes move together as they do in reality
//   (resampling outcomes one by one made intervals far too narrow). Over replicate simulated populations
//   the jackknife's intervals covered the true scores 90.3–94.0% per category; a cluster bootstrap's
//   percentile intervals 89.5–93% (40 replicates as in test/unit/preference-coverage, which holds the
//   jackknife's to 90% or more). The jackknife's variance estimate is
//   conservative in expectation (Efron–Stein), and it costs one fit per cluster.
// A model needs METHOD.min_model_comparisons outcomes (against other scored models) to be scored, and only the
// largest connected set of models is scored (scores of unconnected sets have no common scale).

/** Outcomes of one ordered pair from one cluster of accounts. */
export interface PairCount {
  winner: string;
  loser: string;
  count: number;
  /** Which cluster of accounts the outcomes came from (resampled as a whole); 0 when not clustered. */
  cluster?: number;
  /** Distinct accounts behind these outcomes (clusters partition accounts, so these add up across clusters). */
  accounts?: number;
}

export interface Score {
  item: string;
  score: number; // log-strength, the scored items' scores sum to 0
  low: number;
  high: number;
  comparisons: number;
}

export interface WinCount {
  winner: string;
  loser: string;
  outcomes: number;
  accounts: number;
}

export interface Scoring {
  scores: Score[];
  /** Items seen in outcomes but not scored (too few outcomes, or not connected to the scored set), with their outcomes. */
  unscored: { item: string; comparisons: number }[];
  /** Outcomes per ordered pair of scored items whose pair has METHOD.min_pair_comparisons or more. */
  wins: WinCount[];
}

export const METHOD = {
  shrink: 0.1,
  min_model_comparisons: 30,
  min_pair_comparisons: 10,
  clusters: 256,
  level: 0.95,
} as const;

/** Student's t quantile for `p` near 1 with `df` degrees of freedom (Cornish–Fisher expansion about the normal quantile). */
export function tQuantile(p: number, df: number): number {
  // Normal quantile: Abramowitz and Stegun 26.2.23 (error under 5e-4).
  const q = Math.sqrt(-2 * Math.log(1 - p));
  const z = q - (2.515517 + 0.802853 * q + 0.010328 * q * q) / (1 + 1.432788 * q + 0.189269 * q * q + 0.001308 * q * q * q);
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2) + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3);
}

/** Unordered pairs of item indexes (pi[k] < pj[k]), in one canonical order. */
interface Pairs {
  pi: Int32Array;
  pj: Int32Array;
}

/**
 * The sum-to-zero log-strengths maximising the Bradley–Terry likelihood of `wins` (wins[2k]: pair k's i
 * beat j; wins[2k+1]: j beat i), each pair shrunk toward even, by Hunter's MM iterations.
 */
function fitPairs({ pi, pj }: Pairs, wins: Float64Array, n: number, start?: Float64Array): Float64Array {
  const m = pi.length;
  const total = new Float64Array(n);
  const games = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const g = wins[2 * k] + wins[2 * k + 1];
    games[k] = g * (1 + METHOD.shrink);
    total[pi[k]] += wins[2 * k] + (METHOD.shrink * g) / 2;
    total[pj[k]] += wins[2 * k + 1] + (METHOD.shrink * g) / 2;
  }
  let p = start ? Float64Array.from(start, Math.exp) : new Float64Array(n).fill(1);
  let next = new Float64Array(n);
  const denom = new Float64Array(n);
  for (let it = 0; it < 20_000; it++) {
    denom.fill(0);
    for (let k = 0; k < m; k++) {
      const i = pi[k];
      const j = pj[k];
      const d = games[k] / (p[i] + p[j]);
      denom[i] += d;
      denom[j] += d;
    }
    let mean = 0;
    for (let i = 0; i < n; i++) {
      next[i] = denom[i] > 0 ? total[i] / denom[i] : p[i];
      mean += Math.log(next[i]) / n;
    }
    const scale = Math.exp(-mean);
    let change = 0;
    for (let i = 0; i < n; i++) {
      next[i] *= scale;
      change = Math.max(change, Math.abs(Math.log(next[i] / p[i])));
    }
    [p, next] = [next, p];
    if (change < 1e-10) break;
  }
  return p.map(Math.log);
}

/** Items with enough outcomes among themselves, in the largest connected set: dropping one can drop others. */
function scorable(counts: readonly PairCount[]): Set<string> {
  let items = new Set(counts.flatMap((c) => [c.winner, c.loser]));
  for (;;) {
    const comparisons = new Map<string, number>();
    const links = new Map<string, Set<string>>();
    for (const c of counts) {
      if (!items.has(c.winner) || !items.has(c.loser)) continue;
      for (const [x, y] of [
        [c.winner, c.loser],
        [c.loser, c.winner],
      ]) {
        comparisons.set(x, (comparisons.get(x) ?? 0) + c.count);
        links.set(x, (links.get(x) ?? new Set()).add(y));
      }
    }
    const enough = new Set([...items].filter((x) => (comparisons.get(x) ?? 0) >= METHOD.min_model_comparisons));
    const largest = largestComponent(enough, links);
    if (largest.size === items.size) return items;
    items = largest;
  }
}

function largestComponent(items: Set<string>, links: Map<string, Set<string>>): Set<string> {
  let best = new Set<string>();
  const seen = new Set<string>();
  for (const start of [...items].sort()) {
    if (seen.has(start)) continue;
    const component = new Set([start]);
    const queue = [start];
    seen.add(start);
    while (queue.length > 0) {
      for (const y of links.get(queue.pop()!) ?? []) {
        if (!items.has(y) || seen.has(y)) continue;
        seen.add(y);
        component.add(y);
        queue.push(y);
      }
    }
    if (component.size > best.size) best = component;
  }
  return best;
}

/** Scores with cluster-jackknife intervals, the items left unscored, and the win counts of shown pairs. */
export function scores(counts: readonly PairCount[]): Scoring {
  const used = counts.filter((c) => c.count > 0 && c.winner !== c.loser);
  // Per ordered pair, over all clusters: what the selection of items and the win matrix read.
  const ordered = new Map<string, PairCount & { accounts: number }>();
  for (const c of used) {
    const key = `${c.winner}\u0000${c.loser}`;
    const o = ordered.get(key);
    if (o) {
      o.count += c.count;
      o.accounts += c.accounts ?? 0;
    } else ordered.set(key, { winner: c.winner, loser: c.loser, count: c.count, accounts: c.accounts ?? 0 });
  }
  const keep = scorable([...ordered.values()]);
  const items = [...keep].sort();
  const n = items.length;
  const index = new Map(items.map((x, i) => [x, i]));
  const comparisons = new Map<string, number>();
  for (const c of ordered.values()) {
    if (!keep.has(c.winner) || !keep.has(c.loser)) continue;
    for (const x of [c.winner, c.loser]) comparisons.set(x, (comparisons.get(x) ?? 0) + c.count);
  }

  // Unordered pairs of scored items in index order (a canonical order: float sums depend on it).
  const pairKeys = new Set<number>();
  for (const c of ordered.values()) {
    const w = index.get(c.winner);
    const l = index.get(c.loser);
    if (w !== undefined && l !== undefined) pairKeys.add(Math.min(w, l) * n + Math.max(w, l));
  }
  const sortedKeys = [...pairKeys].sort((a, b) => a - b);
  const pairIndex = new Map(sortedKeys.map((key, k) => [key, k]));
  const pairs: Pairs = { pi: Int32Array.from(sortedKeys, (key) => Math.floor(key / n)), pj: Int32Array.from(sortedKeys, (key) => key % n) };
  const clusterIds = [...new Set(used.map((c) => c.cluster ?? 0))].sort((a, b) => a - b);
  const clusterOf = new Map(clusterIds.map((c, k) => [c, k]));
  // Per cluster, its outcomes as (slot, count), slot = 2 · pair + side: a replicate without cluster k is
  // the whole minus these (the cost of a replicate is its cluster's outcomes, not pairs × clusters).
  const byCluster: { slot: number; count: number }[][] = clusterIds.map(() => []);
  const observed = new Float64Array(2 * sortedKeys.length);
  for (const c of used) {
    const w = index.get(c.winner);
    const l = index.get(c.loser);
    if (w === undefined || l === undefined) continue;
    const slot = 2 * pairIndex.get(Math.min(w, l) * n + Math.max(w, l))! + (w < l ? 0 : 1);
    byCluster[clusterOf.get(c.cluster ?? 0)!].push({ slot, count: c.count });
    observed[slot] += c.count;
  }
  const point = n > 0 ? fitPairs(pairs, observed, n) : new Float64Array(0);

  // Delete-one-cluster jackknife: SE² = (K − 1)/K · Σ (θ₋ₖ − θ̄)², interval point ± t(K − 1) · SE.
  const K = clusterIds.length;
  const se = new Float64Array(n);
  if (K >= 2 && n > 0) {
    const reps: Float64Array[] = [];
    for (let k = 0; k < K; k++) {
      const without = observed.slice();
      for (const { slot, count } of byCluster[k]) without[slot] -= count;
      reps.push(fitPairs(pairs, without, n, point));
    }
    for (let i = 0; i < n; i++) {
      let mean = 0;
      for (const r of reps) mean += r[i] / K;
      let ss = 0;
      for (const r of reps) ss += (r[i] - mean) ** 2;
      se[i] = Math.sqrt(((K - 1) / K) * ss);
    }
  }
  const t = K >= 2 ? tQuantile(1 - (1 - METHOD.level) / 2, K - 1) : Number.POSITIVE_INFINITY;
  const scored =
    K < 2
      ? []
      : items
          .map((item, i) => ({ item, score: point[i], low: point[i] - t * se[i], high: point[i] + t * se[i], comparisons: comparisons.get(item) ?? 0 }))
          .sort((a, b) => b.score - a.score || a.item.localeCompare(b.item));
  // Without two clusters of accounts there is no interval: nothing is scored.
  if (K < 2) keep.clear();

  const unscored = new Map<string, number>();
  for (const c of ordered.values()) for (const x of [c.winner, c.loser]) if (!keep.has(x)) unscored.set(x, (unscored.get(x) ?? 0) + c.count);
  const wins: WinCount[] = [];
  for (let k = 0; k < sortedKeys.length && K >= 2; k++) {
    const [a, b] = [items[pairs.pi[k]], items[pairs.pj[k]]];
    if (observed[2 * k] + observed[2 * k + 1] < METHOD.min_pair_comparisons) continue;
    wins.push({ winner: a, loser: b, outcomes: observed[2 * k], accounts: ordered.get(`${a}\u0000${b}`)?.accounts ?? 0 });
    wins.push({ winner: b, loser: a, outcomes: observed[2 * k + 1], accounts: ordered.get(`${b}\u0000${a}`)?.accounts ?? 0 });
  }
  wins.sort((x, y) => x.winner.localeCompare(y.winner) || x.loser.localeCompare(y.loser));
  return {
    scores: scored,
    unscored: [...unscored].map(([item, c]) => ({ item, comparisons: c })).sort((a, b) => b.comparisons - a.comparisons || a.item.localeCompare(b.item)),
    wins,
  };
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
