import { describe, expect, it } from 'vitest';
import { kendallTau, METHOD, type PairCount, scores, tQuantile } from '../../analytics/preference/bradley-terry.ts';
import { clusteredPairs, type Outcome } from '../helpers/revealed-oracle.ts';
import { seededRandom } from '../../core/random.ts';

/** Outcomes drawn from known strengths: P(i beats j) = s_i / (s_i + s_j); `perCluster` outcomes share a cluster (one account's). */
function simulate(strengths: Record<string, number>, games: number, seed: number, perCluster = 1) {
  const random = seededRandom(seed);
  const names = Object.keys(strengths);
  const out: Outcome[] = [];
  for (let g = 0; g < games; g++) {
    const a = names[Math.floor(random() * names.length)];
    let b = names[Math.floor(random() * names.length)];
    while (b === a) b = names[Math.floor(random() * names.length)];
    const aWins = random() < strengths[a] / (strengths[a] + strengths[b]);
    const cluster = Math.floor(g / perCluster);
    const account = `acct-${cluster}`;
    out.push(aWins ? { winner: a, loser: b, cluster, account } : { winner: b, loser: a, cluster, account });
  }
  return out;
}

/** The counts split evenly between two clusters of accounts (one cluster gives no interval). */
const inTwo = (counts: PairCount[]): PairCount[] => counts.flatMap((c) => [0, 1].map((cluster) => ({ ...c, count: c.count / 2, cluster })));

const scoreOf = (r: ReturnType<typeof scores>, item: string) => r.scores.find((s) => s.item === item)!;

describe('Bradley–Terry', () => {
  it('recovers the order of known strengths; scores sum to zero and intervals hold the point', () => {
    const r = scores(clusteredPairs(simulate({ a: 8, b: 4, c: 2, d: 1 }, 6000, 3, 50)));
    expect(r.scores.map((s) => s.item)).toEqual(['a', 'b', 'c', 'd']);
    expect(r.scores.reduce((n, s) => n + s.score, 0)).toBeCloseTo(0, 9);
    for (const s of r.scores) expect(s.low <= s.score && s.score <= s.high).toBe(true);
    // log 8 = 2.08 unshrunk; shrinking each pair 10% toward even narrows it, not below half.
    const gap = scoreOf(r, 'a').score - scoreOf(r, 'd').score;
    expect(gap).toBeGreaterThan(1);
    expect(gap).toBeLessThan(Math.log(8));
  });

  it('a pair always won by one side is the same finite gap at every sample size: the scale does not grow with the data', () => {
    const gaps = [40, 4000, 400_000].map((n) => {
      const r = scores([0, 1].map((cluster) => ({ winner: 'x', loser: 'y', count: n / 2, cluster })));
      return scoreOf(r, 'x').score - scoreOf(r, 'y').score;
    });
    const shrunk = (1 + METHOD.shrink / 2) / (METHOD.shrink / 2); // odds of (n + shrink·n/2) to shrink·n/2
    for (const g of gaps) expect(g).toBeCloseTo(Math.log(shrunk), 6);
  });

  it('outcomes that come in clusters (one account, many outcomes) give wider intervals than independent ones', () => {
    // The same outcomes twice: each from its own account, or fifty per account with one account's taste.
    const random = seededRandom(9);
    const clustered: PairCount[] = [];
    for (let acct = 0; acct < 40; acct++) {
      const likesA = random() < 0.6;
      clustered.push({ winner: likesA ? 'a' : 'b', loser: likesA ? 'b' : 'a', count: 50, cluster: acct });
    }
    const independent = clustered.flatMap((c) => Array.from({ length: c.count }, (_, k) => ({ ...c, count: 1, cluster: (c.cluster ?? 0) * 50 + k })));
    const width = (r: ReturnType<typeof scores>) => scoreOf(r, 'a').high - scoreOf(r, 'a').low;
    expect(width(scores(clustered))).toBeGreaterThan(3 * width(scores(independent)));
  });

  it('a model with too few comparisons is not scored; a pair with too few is left out of the win matrix', () => {
    const counts: PairCount[] = [
      { winner: 'a', loser: 'b', count: 40 },
      { winner: 'b', loser: 'a', count: 25 },
      { winner: 'c', loser: 'a', count: 5 },
      { winner: 'b', loser: 'd', count: 20 },
      { winner: 'd', loser: 'b', count: 20 },
      { winner: 'a', loser: 'd', count: 4 },
    ];
    const r = scores(inTwo(counts));
    expect(r.scores.map((s) => s.item).sort()).toEqual(['a', 'b', 'd']);
    expect(r.unscored).toEqual([{ item: 'c', comparisons: 5 }]);
    expect(scoreOf(r, 'a').comparisons).toBe(40 + 25 + 4);
    expect(r.wins.map((w) => `${w.winner}>${w.loser}:${w.outcomes}`)).toEqual(['a>b:40', 'b>a:25', 'b>d:20', 'd>b:20']); // a–d: 4 < 10
  });

  it('only the largest connected set of models is scored (unconnected sets have no common scale)', () => {
    const r = scores(
      inTwo([
        { winner: 'a', loser: 'b', count: 30 },
        { winner: 'b', loser: 'c', count: 30 },
        { winner: 'x', loser: 'y', count: 40 },
      ]),
    );
    expect(r.scores.map((s) => s.item).sort()).toEqual(['a', 'b', 'c']);
    expect(r.unscored.map((u) => u.item)).toEqual(['x', 'y']);
  });

  it('is repeatable and empty without outcomes', () => {
    const counts = clusteredPairs(simulate({ a: 3, b: 2, c: 1 }, 500, 4, 10));
    expect(scores(counts)).toEqual(scores(counts));
    expect(scores([])).toEqual({ scores: [], unscored: [], wins: [] });
    // One cluster of accounts gives no interval: nothing is scored.
    expect(scores([{ winner: 'a', loser: 'b', count: 50, cluster: 3 }])).toEqual({
      scores: [],
      unscored: [
        { item: 'a', comparisons: 50 },
        { item: 'b', comparisons: 50 },
      ],
      wins: [],
    });
  });

  it("Student's t quantiles", () => {
    expect(tQuantile(0.975, 255)).toBeCloseTo(1.969, 2);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.042, 2);
    expect(tQuantile(0.975, 10)).toBeCloseTo(2.228, 2);
  });

  it('Kendall tau is 1 for the same order, -1 reversed', () => {
    expect(kendallTau(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(1);
    expect(kendallTau(['a', 'b', 'c'], ['c', 'b', 'a'])).toBe(-1);
    expect(kendallTau(['a', 'b', 'c', 'd'], ['b', 'a', 'c', 'd'])).toBeCloseTo(4 / 6, 9);
  });
});
