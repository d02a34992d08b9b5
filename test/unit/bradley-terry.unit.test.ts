import { describe, expect, it } from 'vitest';
import { fit, kendallTau, scores, seededRandom, tally, type Outcome } from '../../analytics/preference/bradley-terry.ts';

/** Outcomes drawn from known strengths: P(i beats j) = s_i / (s_i + s_j). */
function simulate(strengths: Record<string, number>, games: number, seed: number): Outcome[] {
  const random = seededRandom(seed);
  const names = Object.keys(strengths);
  const out: Outcome[] = [];
  for (let g = 0; g < games; g++) {
    const a = names[Math.floor(random() * names.length)];
    let b = names[Math.floor(random() * names.length)];
    while (b === a) b = names[Math.floor(random() * names.length)];
    const aWins = random() < strengths[a] / (strengths[a] + strengths[b]);
    out.push(aWins ? { winner: a, loser: b } : { winner: b, loser: a });
  }
  return out;
}

describe('Bradley–Terry', () => {
  it('recovers the order and the log-strength gaps of known strengths', () => {
    const truth = { a: 8, b: 4, c: 2, d: 1 };
    // biome-ignore lint/suspicious/noFocusedTests: `fit` is the Bradley–Terry fit, not a focused test
    const s = fit(tally(simulate(truth, 6000, 3)), ['a', 'b', 'c', 'd']);
    expect([...s].sort((x, y) => y[1] - x[1]).map(([k]) => k)).toEqual(['a', 'b', 'c', 'd']);
    expect(s.get('a')! - s.get('d')!).toBeCloseTo(Math.log(8), 0); // within ±0.5 in log-strength
  });

  it('gives intervals that contain the point estimate and separate clearly different items', () => {
    const sc = scores(tally(simulate({ a: 10, b: 1, c: 1 }, 1500, 5)), { resamples: 100 });
    for (const x of sc) expect(x.low <= x.score && x.score <= x.high).toBe(true);
    const [a, ...rest] = sc;
    expect(a.item).toBe('a');
    for (const r of rest) expect(a.low).toBeGreaterThan(r.high); // a is separated from the tied pair
    expect(rest[0].low).toBeLessThan(rest[1].high); // b and c overlap: a tie
  });

  it('stays finite for an item that never lost', () => {
    const sc = scores([{ winner: 'x', loser: 'y', count: 2 }], { resamples: 20 });
    expect(sc.every((s) => Number.isFinite(s.score) && Number.isFinite(s.low) && Number.isFinite(s.high))).toBe(true);
  });

  it('Kendall tau is 1 for the same order, -1 reversed', () => {
    expect(kendallTau(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(1);
    expect(kendallTau(['a', 'b', 'c'], ['c', 'b', 'a'])).toBe(-1);
    expect(kendallTau(['a', 'b', 'c', 'd'], ['b', 'a', 'c', 'd'])).toBeCloseTo(4 / 6, 9);
  });
});
