// bench/auto: does switchboard/auto in "balanced" mode save a population money without giving up what it
// values? A simulated population (known hidden utilities) chooses models by itself; its revealed
// preference is scored exactly as analytics scores it (weekly mains → outcomes → Bradley–Terry with
// jackknife intervals); auto then chooses per category as the router does (real route planning, catalog
// prices). Reported per category: the cost of the population's last full week of traffic at its own
// choices against the same tokens at auto's choice, and whether the chosen model's true score (the same
// statistic on a population twenty times larger from the same world) lies within the best model's
// interval, with the simulator's utility gap to the truly best model beside it.
// Usage: npx tsx bench/auto/run.ts [--accounts 2400] [--seed 3]
import { parseArgs } from 'node:util';
import { loadCatalog } from '../../catalog/catalog.ts';
import { scores } from '../../analytics/preference/bradley-terry.ts';
import { SIM_CATEGORIES, simulatePopulation, type WeeklyUse } from '../../dev/population/simulate.ts';
import { HealthRegistry } from '../../router/health/registry.ts';
import { chooseAuto } from '../../router/routing/auto.ts';
import { planRoute } from '../../router/routing/plan.ts';
import { PREFERENCE_TABLE_VERSION, type PreferenceTable } from '../../telemetry/preference-table.ts';
import { clusteredPairs, outcomes, weeklyMains } from '../../test/helpers/revealed-oracle.ts';
import { POPULATION_MODELS } from '../../test/fixtures/population.ts';

const { values } = parseArgs({ options: { accounts: { type: 'string', default: '2400' }, seed: { type: 'string', default: '3' } } });
const ACCOUNTS = Number(values.accounts);
const WORLD = Number(values.seed);
const END = Date.UTC(2026, 10, 30, 12);
const catalog = loadCatalog();
const population = (seed: number, accounts: number) =>
  simulatePopulation({ catalog, models: POPULATION_MODELS, seed, worldSeed: WORLD, accounts, days: 42, endMs: END, weeklyOnly: true });

function tables(weekly: readonly WeeklyUse[], categoryOf: Map<string, string>): Record<string, PreferenceTable> {
  return Object.fromEntries(
    SIM_CATEGORIES.map((c) => {
      const sc = scores(clusteredPairs(outcomes(weeklyMains(weekly.filter((u) => categoryOf.get(u.account) === c))))).scores;
      return [
        c,
        {
          v: PREFERENCE_TABLE_VERSION,
          kind: 'preference',
          category: c,
          period: 'month',
          computed_at: END,
          scores: sc.map((s) => ({ model: s.item, score: s.score, low: s.low, high: s.high, comparisons: s.comparisons })),
        },
      ];
    }),
  );
}

// What a model costs per token of the population's traffic: the simulator prices every request at the
// model's cheapest endpoint, so do the same (prompt and completion averaged as it draws them).
const PROMPT = 1100;
const COMPLETION = 275;
const perToken = (model: string) => {
  const e = [...catalog.model(model)!.endpoints].sort((a, b) => a.pricePrompt + a.priceCompletion - (b.pricePrompt + b.priceCompletion))[0];
  return (PROMPT * e.pricePrompt + COMPLETION * e.priceCompletion) / (PROMPT + COMPLETION) / 1e6;
};

const t0 = performance.now();
const pop = population(1, ACCOUNTS);
const categoryOf = new Map(pop.accounts.map((a) => [a.id, a.category]));
const observed = tables(pop.weekly, categoryOf);
const big = population(1_000_000, ACCOUNTS * 20);
const truth = tables(big.weekly, new Map(big.accounts.map((a) => [a.id, a.category])));
const lastWeek = [...new Set(pop.weekly.map((u) => u.week))].sort().at(-2)!; // the last full week
console.log(
  `auto  ${new Date().toISOString()}  ${ACCOUNTS} accounts, 42 days, world seed ${WORLD}; truth from ${ACCOUNTS * 20} accounts (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
);
console.log(
  `category | own choices, week of ${lastWeek} | auto balanced | cost cut | chosen: true score minus the best's vs the best's interval | utility gap to the truly best; utility of own choices and auto's`,
);
const health = new HealthRegistry({ consecutiveFailures: 3, failureRatio: 0.5, minRequests: 10, windowMs: 30_000, cooldownMs: 5_000 });
for (const c of SIM_CATEGORIES) {
  const choice = chooseAuto({
    catalog,
    category: c,
    table: observed[c],
    overall: undefined,
    options: { optimize: 'balanced' },
    plan: (model) =>
      planRoute({ model, sort: undefined, prefs: undefined, promptTokens: PROMPT, maxTokens: COMPLETION, needsTools: false, needsResponseFormat: false }, health, {
        random: () => 0.5,
      }),
    random: () => 1,
    exploreShare: 0,
  });
  const chosen = choice.models[0].id;
  const week = pop.weekly.filter((u) => u.week === lastWeek && categoryOf.get(u.account) === c);
  const tokens = week.reduce((n, u) => n + u.tokens, 0);
  const own = week.reduce((n, u) => n + u.tokens * perToken(u.model), 0);
  const auto = tokens * perToken(chosen);
  const best = [...observed[c].scores].sort((a, b) => b.score - a.score)[0];
  const trueChosen = truth[c].scores.find((s) => s.model === chosen)!.score;
  const trueBest = truth[c].scores.find((s) => s.model === best.model)!.score;
  // The interval of the best, as a difference to the best: the chosen model's true gap to the best's true score.
  const within = trueChosen - trueBest >= best.low - best.score;
  const u = pop.truthUtility[c];
  const bestUtility = Math.max(...Object.values(u));
  const ownUtility = week.reduce((n, w) => n + w.tokens * u[w.model], 0) / tokens;
  console.log(
    `${c} | $${own.toFixed(2)} | ${chosen} $${auto.toFixed(2)} | ${((1 - auto / own) * 100).toFixed(1)}% | ${(trueChosen - trueBest).toFixed(2)} vs ${(best.low - best.score).toFixed(2)} (best ${best.model}): ${within ? 'within' : 'OUTSIDE'} | ${(bestUtility - u[chosen]).toFixed(3)} (truly best ${pop.truth[c][0]}); mean utility of own choices ${ownUtility.toFixed(3)}, of auto's ${u[chosen].toFixed(3)}`,
  );
}
