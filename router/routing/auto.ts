// `switchboard/auto` (and `switchboard/auto:<category>`): the model is chosen per request from the revealed
// preference of the request's category, the models' prices for this request and their live health, under
// the request's own constraints (each candidate model is planned exactly as a named one would be, so
// max_price, context length, tools, response_format, data policy and provider lists exclude what they
// exclude there). "balanced" (the default) takes the cheapest model whose score is not credibly below the
// best available one (its interval reaches the best's lower bound), "preference" the best, "price" the
// cheapest that clears `min_score`. A small share of requests explores another fitting model no dearer
// than the choice, so scores of the others stay fresh. The scores never include auto-routed traffic.
import type { Catalog, Model } from '../../catalog/catalog.ts';
import { ApiError, badRequest } from '../../core/errors.ts';
import type { PreferenceTable } from '../../telemetry/preference-table.ts';
import { CATEGORIES, isCategory } from '../classify.ts';
import type { RoutePlan } from './plan.ts';

export const AUTO_MODEL = 'switchboard/auto';
export const OPTIMIZE = ['balanced', 'price', 'preference'] as const;
/** Models tried after the choice when its endpoints all fail. */
const FALLBACKS = 2;

export interface AutoOptions {
  optimize?: (typeof OPTIMIZE)[number];
  /** A score, or a percentile of the category's scores ("p75"). */
  min_score?: number | string;
  /** Only these models may be chosen. */
  models?: string[];
}

/** `switchboard/auto[:category]` as its category (undefined: the request's own), or undefined for any other model. */
export function parseAuto(ref: string): { category: string | undefined } | undefined {
  if (ref === AUTO_MODEL) return { category: undefined };
  if (!ref.startsWith(`${AUTO_MODEL}:`)) return undefined;
  const category = ref.slice(AUTO_MODEL.length + 1);
  if (!isCategory(category)) throw badRequest(`${ref}: the category must be one of ${CATEGORIES.join(', ')}`, 'invalid_category', 'model');
  return { category };
}

export interface AutoCandidate {
  model: string;
  score: number;
  low: number;
  high: number;
  comparisons: number;
  /** The cheapest expected cost of this request among its usable endpoints (null: none usable). */
  expected_cost_usd: number | null;
}

export interface AutoExplanation {
  category: string;
  scores: { from: 'category' | 'all traffic'; period: string; computed_at: string } | null;
  optimize: string;
  chosen: AutoCandidate & { reason: string };
  explored: boolean;
  passed_over: (Partial<AutoCandidate> & { model: string; reason: string })[];
}

export interface AutoChoice {
  models: Model[];
  explanation: AutoExplanation;
}

export interface AutoInput {
  catalog: Catalog;
  category: string;
  /** The category's table, and the one of all traffic when the category has none yet. */
  table: PreferenceTable | undefined;
  overall: PreferenceTable | undefined;
  options: AutoOptions | undefined;
  /** The route this request would take to a model (its constraints applied). */
  plan: (model: Model) => RoutePlan;
  random: () => number;
  exploreShare: number;
}

/** Why a planned model cannot serve this request now, or undefined when it can. */
function unavailable(plan: RoutePlan): string | undefined {
  if (plan.order.length === 0) {
    const reasons = [...new Set(plan.excluded.map((x) => x.reason))];
    return `no endpoint fits: ${reasons.join('; ') || 'none listed'}`;
  }
  if (plan.candidates.every((c) => c.signal?.status === 'down')) return 'its endpoints are down (fleet signals)';
  return undefined;
}

function minScoreOf(option: number | string | undefined, table: PreferenceTable): number {
  if (option === undefined) return -Infinity;
  if (typeof option === 'number') return option;
  const m = /^p(\d{1,2}|100)$/.exec(option);
  if (!m) throw badRequest('switchboard.auto.min_score: a score or a percentile such as "p75"', 'invalid_request', 'switchboard.auto.min_score');
  const sorted = table.scores.map((s) => s.score).sort((a, b) => a - b);
  if (sorted.length === 0) return -Infinity;
  return sorted[Math.min(sorted.length - 1, Math.floor((Number(m[1]) / 100) * sorted.length))];
}

export function chooseAuto(input: AutoInput): AutoChoice {
  const { options } = input;
  const optimize = options?.optimize ?? 'balanced';
  const ownTable = input.table && input.table.scores.length > 0 ? input.table : undefined;
  const table = ownTable ?? (input.overall && input.overall.scores.length > 0 ? input.overall : undefined);
  const allowed = options?.models && new Set(options.models);
  if (!table) {
    throw new ApiError(
      503,
      'service_unavailable',
      'no_preference_scores',
      `${AUTO_MODEL} has no revealed-preference scores yet (they come from a week or more of traffic); name a model for now`,
      { retryAfterSeconds: 60 },
    );
  }
  const floor = minScoreOf(options?.min_score, table);
  const passed: AutoExplanation['passed_over'] = [];
  const fit: AutoCandidate[] = [];
  for (const s of table.scores) {
    const model = input.catalog.model(s.model);
    const figures = { score: s.score, low: s.low, high: s.high, comparisons: s.comparisons };
    if (!model) continue; // scored from history, no longer in the catalog
    if (allowed && !allowed.has(s.model)) {
      passed.push({ model: s.model, ...figures, reason: 'not in switchboard.auto.models' });
      continue;
    }
    if (s.score < floor) {
      passed.push({ model: s.model, ...figures, reason: `score below min_score (${floor.toFixed(3)})` });
      continue;
    }
    const plan = input.plan(model);
    const why = unavailable(plan);
    if (why) {
      passed.push({ model: s.model, ...figures, reason: why });
      continue;
    }
    const usable = plan.candidates.filter((c) => c.signal?.status !== 'down');
    fit.push({ model: s.model, ...figures, expected_cost_usd: Math.min(...usable.map((c) => c.expected_cost_usd)) });
  }
  if (fit.length === 0) {
    throw new ApiError(
      404,
      'not_found_error',
      'no_model_fits',
      `${AUTO_MODEL}: no scored model can serve this request (${passed.map((p) => `${p.model}: ${p.reason}`).join('; ')})`,
      {
        metadata: { passed_over: passed },
      },
    );
  }
  const cost = (c: AutoCandidate) => c.expected_cost_usd ?? Infinity;
  const byScore = [...fit].sort((a, b) => b.score - a.score || cost(a) - cost(b));
  const best = byScore[0];
  const byCost = (xs: AutoCandidate[]) => [...xs].sort((a, b) => cost(a) - cost(b) || b.score - a.score);
  let ranked: AutoCandidate[];
  let reason: string;
  if (optimize === 'preference') {
    ranked = byScore;
    reason = 'the highest score among the models that fit';
  } else if (optimize === 'price') {
    ranked = byCost(fit);
    reason = 'the cheapest model that fits and clears min_score';
  } else {
    const level = byCost(fit.filter((c) => c.high >= best.low));
    ranked = [...level, ...byScore.filter((c) => !level.includes(c))];
    reason =
      ranked[0] === best
        ? 'the best score, and no cheaper model within its interval'
        : `the cheapest model not credibly below the best (${best.model}: interval reaches ${best.low.toFixed(3)})`;
  }
  let chosen = ranked[0];
  let explored = false;
  if (input.exploreShare > 0 && input.random() < input.exploreShare) {
    const others = fit.filter((c) => c !== chosen && cost(c) <= cost(chosen));
    if (others.length > 0) {
      chosen = others[Math.floor(input.random() * others.length)];
      reason = `exploration (${Math.round(input.exploreShare * 1000) / 10}% of requests try another fitting model no dearer than the choice)`;
      explored = true;
      ranked = [chosen, ...ranked.filter((c) => c !== chosen)];
    }
  }
  for (const c of ranked.slice(1)) passed.push({ ...c, reason: c.score >= chosen.score ? 'dearer' : c.high < best.low ? 'credibly below the best' : 'ranked after the choice' });
  return {
    models: ranked.slice(0, 1 + FALLBACKS).map((c) => input.catalog.model(c.model)!),
    explanation: {
      category: input.category,
      scores: { from: ownTable ? 'category' : 'all traffic', period: table.period, computed_at: new Date(table.computed_at).toISOString() },
      optimize,
      chosen: { ...chosen, reason },
      explored,
      passed_over: passed,
    },
  };
}
