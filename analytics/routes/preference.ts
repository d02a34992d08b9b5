// Public revealed preference: retention, switching flows, pairwise Bradley–Terry scores with jackknife
// intervals (ties where intervals overlap) and the win matrix behind them, and what each price change did
// to the model's share and who moved.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { CATEGORIES } from '../../router/classify.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { refreshing, type Warmup } from '../../core/refreshing-cache.ts';
import { adoptersOf, type PriceChange, priceChanges, sharesAround } from '../../store/price-event-queries.ts';
import { METHOD, scores } from '../preference/bradley-terry.ts';
import { PREFERENCE_WEEKS, type PreferencePeriod, periodStart, revealedPreference } from '../preference/revealed.ts';

const Query = Type.Object(
  {
    period: Type.Optional(
      Type.Union(
        Object.keys(PREFERENCE_WEEKS).map((p) => Type.Literal(p)),
        { default: 'quarter' },
      ),
    ),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)))),
  },
  { additionalProperties: false },
);

const Share = Type.Object({ before: Type.Number(), after: Type.Number() });

const Method = Type.Object(
  {
    model: Type.Literal('bradley-terry'),
    scale: Type.String(),
    shrink: Type.Number(),
    interval: Type.String(),
    level: Type.Number(),
    clusters: Type.Integer(),
    min_model_comparisons: Type.Integer(),
    min_pair_comparisons: Type.Integer(),
    ties: Type.String(),
  },
  { description: 'how the scores and intervals are computed' },
);

export const PreferenceSchema = Type.Object({
  period: Type.String(),
  computed_at: Type.String({ description: 'when this result was computed: it is recomputed at most every PREFERENCE_REFRESH_S' }),
  category: Nullable(Type.String()),
  from: Type.String({ description: 'start of the first week read (a Monday)' }),
  to: Type.String({ description: 'end of the data read (exclusive): the time of the computation' }),
  accounts: Type.Integer(),
  retention: Type.Array(
    Type.Object({
      model: Type.String(),
      cohort_users: Type.Integer(),
      retention: Type.Object({ w1: Nullable(Type.Number()), w2: Nullable(Type.Number()), w4: Nullable(Type.Number()) }),
    }),
  ),
  switching: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), accounts: Type.Integer() })),
  pairwise: Type.Object({
    method: Method,
    outcomes: Type.Integer(),
    scores: Type.Array(
      Type.Object({
        model: Type.String(),
        score: Type.Number(),
        low: Type.Number(),
        high: Type.Number(),
        comparisons: Type.Integer({ description: 'outcomes against the other scored models' }),
        accounts: Type.Integer({ description: 'distinct accounts with outcomes involving the model' }),
        tied_with: Type.Array(Type.String()),
      }),
    ),
    unscored: Type.Array(Type.Object({ model: Type.String(), comparisons: Type.Integer() }), {
      description: 'models with outcomes but too few (or none linking them to the scored models) to be scored',
    }),
    wins: Type.Array(Type.Object({ winner: Type.String(), loser: Type.String(), outcomes: Type.Integer(), accounts: Type.Integer() }), {
      description: 'the win matrix: outcomes per ordered pair of scored models, for pairs with min_pair_comparisons or more',
    }),
  }),
  price_events: Type.Array(
    Type.Object({
      model: Type.String(),
      endpoint: Type.String(),
      at: Type.String(),
      price_prompt: Type.Number(),
      price_completion: Type.Number(),
      share: Share,
      peers: Type.Array(Type.Object({ model: Type.String(), share: Share })),
      adopters: Type.Object({
        users_before: Type.Integer(),
        users_kept: Type.Integer(),
        newcomers: Type.Integer(),
        newcomers_lasting: Nullable(Type.Integer()),
        newcomers_trial: Nullable(Type.Integer()),
        token_share: Type.Object({ earlier_users: Type.Number(), newcomers: Type.Number() }),
      }),
    }),
  ),
});

const METHOD_TEXT = {
  model: 'bradley-terry' as const,
  scale: 'log-strength; the scored models sum to 0; a difference d means the first wins with odds e^d',
  shrink: METHOD.shrink,
  interval: `delete-one-cluster jackknife: accounts hashed into ${METHOD.clusters} clusters, the fit repeated without each; score ± t(clusters − 1) × standard error`,
  level: METHOD.level,
  clusters: METHOD.clusters,
  min_model_comparisons: METHOD.min_model_comparisons,
  min_pair_comparisons: METHOD.min_pair_comparisons,
  ties: 'models whose intervals overlap',
};

type PriceEvent = Static<typeof PreferenceSchema>['price_events'][number];

async function priceEvent(clickhouse: ClickHouseClient, c: PriceChange, category: string | null, now: number): Promise<PriceEvent> {
  const [shares, adopters] = await Promise.all([sharesAround(clickhouse, c.ms, category), adoptersOf(clickhouse, c.model, c.ms, category, now)]);
  const own = shares.find((s) => s.model === c.model);
  return {
    model: c.model,
    endpoint: c.endpoint_id,
    at: c.at,
    price_prompt: c.price_prompt,
    price_completion: c.price_completion,
    share: { before: own?.before ?? 0, after: own?.after ?? 0 },
    peers: shares
      .filter((s) => s.model !== c.model)
      .slice(0, 5)
      .map((s) => ({ model: s.model, share: { before: s.before, after: s.after } })),
    adopters,
  };
}

/** The whole result for one period and category, read from the weekly and hourly rollups. */
async function computePreference(clickhouse: ClickHouseClient, period: PreferencePeriod, category: string | null): Promise<Static<typeof PreferenceSchema>> {
  const now = Date.now();
  const from = periodStart(period, now);
  const [revealed, changes] = await Promise.all([revealedPreference(clickhouse, from, now + 1, category), priceChanges(clickhouse, from, now + 1)]);
  const scoring = scores(revealed.pairs);
  const sc = scoring.scores;
  return {
    computed_at: new Date(now).toISOString(),
    period,
    category,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    accounts: revealed.accounts,
    retention: revealed.retention,
    switching: revealed.flows,
    pairwise: {
      method: METHOD_TEXT,
      outcomes: revealed.pairs.reduce((n, x) => n + x.count, 0),
      scores: sc.map((s) => ({
        model: s.item,
        score: s.score,
        low: s.low,
        high: s.high,
        comparisons: s.comparisons,
        accounts: revealed.outcomeAccounts.get(s.item) ?? 0,
        tied_with: sc.filter((o) => o.item !== s.item && o.low <= s.high && s.low <= o.high).map((o) => o.item),
      })),
      unscored: scoring.unscored.map((u) => ({ model: u.item, comparisons: u.comparisons })),
      wins: scoring.wins,
    },
    price_events: await Promise.all(changes.map((c) => priceEvent(clickhouse, c, category, now))),
  };
}

export function registerPreferenceRoute(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; refreshS: number; warmup?: Warmup }): void {
  // Weekly figures over a month or more of raw rows: computed at most every refreshS, served from memory
  // in between (a stale result while the next one is computed).
  const cached = refreshing(
    deps.refreshS * 1000,
    (q: { period: PreferencePeriod; category: string | null }) => computePreference(deps.clickhouse, q.period, q.category),
    app.log,
    'revealed preference',
  );
  deps.warmup?.add((stopped) =>
    cached.warm(
      [null, ...CATEGORIES].flatMap((category) => (['quarter', 'month', 'year'] as const).map((period) => ({ period, category }))),
      stopped,
    ),
  );
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/v1/rankings/preference',
    {
      schema: {
        summary: 'Revealed preference: retention, switching flows, pairwise scores with intervals, price events',
        tags: ['analytics'],
        querystring: Query,
        response: { 200: PreferenceSchema, ...errorResponses(400) },
      },
    },
    async (request) => {
      const period = (request.query.period ?? 'quarter') as PreferencePeriod;
      const category = request.query.category ?? null;
      return cached({ period, category });
    },
  );
}
