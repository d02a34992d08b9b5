// GET …/recommendations: for each category of the caller's own traffic, the models it uses (tokens, cost,
// their revealed-preference score among peers) and cheaper models peers prefer at least as much: the same
// volume priced at the alternative's cheapest endpoint, and the preference difference with its interval.
// "At least as much": the difference's interval reaches zero or above (conservatively, from both models'
// intervals); costs are what providers charge (the platform fee scales alike).
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Catalog } from '../../catalog/catalog.ts';
import { DAY_MS } from '../../core/time.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { underEveryBase } from '../../http/paths.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { type ModelUse, useByCategory } from '../../store/recommendation-queries.ts';
import type { PreferenceTable } from '../../telemetry/preference-table.ts';
import type { PreferenceScores } from '../../router/routing/preference-scores.ts';
import { toNanoUsd } from '../../core/money.ts';

const Query = Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 30 })) }, { additionalProperties: false });
const Interval = Type.Object({ value: Type.Number(), low: Type.Number(), high: Type.Number() });

export const RecommendationsSchema = Type.Object({
  days: Type.Integer(),
  categories: Type.Array(
    Type.Object({
      category: Type.String(),
      tokens: Type.Integer(),
      cost_usd: Type.Number(),
      scores_computed_at: Nullable(Type.String()),
      models: Type.Array(Type.Object({ model: Type.String(), tokens: Type.Integer(), share: Type.Number(), cost_usd: Type.Number(), score: Nullable(Interval) })),
      suggestions: Type.Array(
        Type.Object({
          instead_of: Type.String(),
          model: Type.String(),
          tokens: Type.Integer({ description: 'your tokens on the model instead of which this one is suggested' }),
          current_cost_usd: Type.Number(),
          expected_cost_usd: Type.Number({ description: "the same prompt and completion tokens at the suggested model's cheapest endpoint" }),
          saving: Type.Number({ description: 'fraction of the current cost saved' }),
          preference_difference: Type.Object(
            { value: Type.Number(), low: Type.Number(), high: Type.Number() },
            { description: 'suggested minus current score, with the interval from both models’ intervals' },
          ),
          verdict: Type.Union([Type.Literal('preferred by peers'), Type.Literal('not credibly less preferred by peers')]),
          text: Type.String(),
        }),
      ),
    }),
  ),
});
type Recommendations = Static<typeof RecommendationsSchema>;
type Category = Recommendations['categories'][number];

const pct = (x: number) => `${Math.round(x * 100)}%`;

function cheapestPrices(catalog: Catalog, model: string): { prompt: number; completion: number } | undefined {
  const m = catalog.model(model);
  if (!m || m.endpoints.length === 0) return undefined;
  return { prompt: Math.min(...m.endpoints.map((e) => e.pricePrompt)), completion: Math.min(...m.endpoints.map((e) => e.priceCompletion)) };
}

/** One category of the account: its models with their scores, and cheaper alternatives for the main one. */
export function recommend(catalog: Catalog, category: string, use: readonly ModelUse[], table: PreferenceTable | undefined): Category {
  const tokensOf = (u: ModelUse) => u.tokens_prompt + u.tokens_completion;
  const total = use.reduce((n, u) => n + tokensOf(u), 0);
  const scoreOf = new Map((table?.scores ?? []).map((s) => [s.model, s]));
  const models = [...use]
    .sort((a, b) => tokensOf(b) - tokensOf(a) || a.model.localeCompare(b.model))
    .map((u) => {
      const s = scoreOf.get(u.model);
      return {
        model: u.model,
        tokens: tokensOf(u),
        share: total > 0 ? tokensOf(u) / total : 0,
        cost_usd: u.cost_usd,
        score: s ? { value: s.score, low: s.low, high: s.high } : null,
      };
    });
  const main = use.find((u) => u.model === models[0]?.model);
  const current = main && scoreOf.get(main.model);
  const suggestions: Category['suggestions'] = [];
  if (main && current && main.cost_usd > 0) {
    for (const alt of table?.scores ?? []) {
      const prices = cheapestPrices(catalog, alt.model);
      if (alt.model === main.model || !prices) continue;
      const difference = { value: alt.score - current.score, low: alt.low - current.high, high: alt.high - current.low };
      if (difference.high < 0) continue; // credibly less preferred
      const expected = toNanoUsd((main.tokens_prompt * prices.prompt + main.tokens_completion * prices.completion) / 1e6);
      if (expected >= main.cost_usd) continue;
      const saving = 1 - expected / main.cost_usd;
      const verdict = difference.low > 0 ? ('preferred by peers' as const) : ('not credibly less preferred by peers' as const);
      suggestions.push({
        instead_of: main.model,
        model: alt.model,
        tokens: tokensOf(main),
        current_cost_usd: main.cost_usd,
        expected_cost_usd: expected,
        saving,
        preference_difference: difference,
        verdict,
        text: `${category}: ${pct(models[0].share)} of your tokens go to ${main.model}; ${alt.model} is ${difference.low > 0 ? 'preferred by peers' : 'preferred at least as much by peers'} and costs ${pct(saving)} less`,
      });
    }
    suggestions.sort((a, b) => b.saving - a.saving || a.model.localeCompare(b.model));
  }
  return {
    category,
    tokens: total,
    cost_usd: toNanoUsd(use.reduce((n, u) => n + u.cost_usd, 0)),
    scores_computed_at: table ? new Date(table.computed_at).toISOString() : null,
    models,
    suggestions: suggestions.slice(0, 3),
  };
}

/**
 * `preference`: the tables this process publishes to the routers for switchboard/auto, so a
 * recommendation reads the scores auto routes by, without computing them again.
 */
export function registerRecommendationsRoute(
  app: FastifyInstance,
  deps: { keys: KeyStore; clickhouse: ClickHouseClient; catalog: Catalog; preference: PreferenceScores | undefined },
): void {
  for (const url of underEveryBase('/recommendations')) {
    app.get<{ Querystring: Static<typeof Query> }>(
      url,
      {
        onRequest: requireKey(deps.keys),
        schema: {
          summary: 'Per category of your traffic: your models, and cheaper ones peers prefer at least as much',
          tags: ['usage'],
          security: [{ bearer: [] }],
          querystring: Query,
          response: { 200: RecommendationsSchema, ...errorResponses(400, 401) },
        },
      },
      async (request): Promise<Recommendations> => {
        const days = request.query.days ?? 30;
        const now = Date.now();
        const use = await useByCategory(deps.clickhouse, keyOf(request).account_id, now - days * DAY_MS, now + 1);
        const byCategory = new Map<string, ModelUse[]>();
        for (const u of use) byCategory.set(u.category, [...(byCategory.get(u.category) ?? []), u]);
        const categories = [...byCategory].map(([c, list]) => recommend(deps.catalog, c, list, deps.preference?.of(c)));
        return { days, categories: categories.sort((a, b) => b.tokens - a.tokens || a.category.localeCompare(b.category)) };
      },
    );
  }
}
