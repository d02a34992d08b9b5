// Do the revealed-preference scores mean what they say? Replicate populations are drawn from one world
// (the same models with the same hidden qualities; different accounts), each scored as the API scores
// them (outcomes read from weekly mains by the plain oracle the SQL is held equal to); the true score of a model is what the same statistic gives on a population twenty times larger
// from that world (its own noise is a twentieth of a replicate's variance). Per category, the nominal 95%
// intervals must cover the true scores at least 90% of the time, and the scores' order must agree with the
// simulator's ground truth (models ordered by the utility the category's accounts get) with Kendall's
// tau ≥ 0.8.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog.ts';
import { kendallTau, scores } from '../../analytics/preference/bradley-terry.ts';
import { SIM_CATEGORIES, simulatePopulation, type WeeklyUse } from '../../dev/population/simulate.ts';
import { clusteredPairs, outcomes, weeklyMains } from '../helpers/revealed-oracle.ts';

import { POPULATION_MODELS as MODELS } from '../fixtures/population.ts';
// Forty replicates: the coverage of 400 intervals per category is known within about ±1.1 points.
const REPLICATES = Number(process.env.COVERAGE_REPLICATES ?? 40);
const ACCOUNTS = Number(process.env.COVERAGE_ACCOUNTS ?? 1200); // 300 per category
const SCALE = 20;
const WORLD = Number(process.env.COVERAGE_WORLD ?? 11);
const END = Date.UTC(2026, 10, 30, 12);
const catalog = loadCatalog();

function population(seed: number, accounts: number) {
  return simulatePopulation({ catalog, models: MODELS, seed, worldSeed: WORLD, accounts, days: 35, endMs: END, weeklyOnly: true });
}

function scoreCategories(weekly: readonly WeeklyUse[], categoryOf: Map<string, string>) {
  return Object.fromEntries(
    SIM_CATEGORIES.map((c) => {
      const mains = weeklyMains(weekly.filter((u) => categoryOf.get(u.account) === c));
      return [c, scores(clusteredPairs(outcomes(mains)))];
    }),
  );
}

describe('revealed-preference statistics over replicate populations', () => {
  it(`cover the true scores ≥ 90% per category at nominal 95%, and order models like the truth (tau ≥ 0.8)`, () => {
    const big = population(1_000_000, ACCOUNTS * SCALE);
    const truth = scoreCategories(big.weekly, new Map(big.accounts.map((a) => [a.id, a.category])));
    const hits = Object.fromEntries(SIM_CATEGORIES.map((c) => [c, { covered: 0, of: 0, taus: [] as number[], widths: [] as number[] }]));
    for (let r = 0; r < REPLICATES; r++) {
      const pop = population(100 + r, ACCOUNTS);
      const got = scoreCategories(pop.weekly, new Map(pop.accounts.map((a) => [a.id, a.category])));
      for (const c of SIM_CATEGORIES) {
        const h = hits[c];
        const trueScore = new Map(truth[c].scores.map((s) => [s.item, s.score]));
        for (const s of got[c].scores) {
          const t = trueScore.get(s.item);
          if (t === undefined) continue;
          h.of++;
          if (s.low <= t && t <= s.high) h.covered++;
          h.widths.push(s.high - s.low);
        }
        h.taus.push(
          kendallTau(
            got[c].scores.map((s) => s.item),
            pop.truth[c],
          ),
        );
      }
    }
    for (const c of SIM_CATEGORIES) {
      const h = hits[c];
      const meanTau = h.taus.reduce((a, b) => a + b, 0) / h.taus.length;
      const spread = truth[c].scores[0].score - truth[c].scores.at(-1)!.score;
      console.log(
        `${c}: coverage ${((100 * h.covered) / h.of).toFixed(1)}% of ${h.of}; tau mean ${meanTau.toFixed(3)}, min ${Math.min(...h.taus).toFixed(3)}; ` +
          `mean interval width ${(h.widths.reduce((a, b) => a + b, 0) / h.widths.length).toFixed(2)}; true score range ${spread.toFixed(2)}`,
      );
      expect(h.of).toBeGreaterThanOrEqual(REPLICATES * MODELS.length * 0.9);
      expect(h.covered / h.of).toBeGreaterThanOrEqual(0.9);
      expect(meanTau).toBeGreaterThanOrEqual(0.8);
    }
  }, 600_000);
});
