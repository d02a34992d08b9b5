// Public revealed preference: retention, switching flows, pairwise Bradley–Terry scores with bootstrap
// intervals (ties where intervals overlap), and what each price change did to the model's share.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { CATEGORIES } from '../../router/classify.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { refreshing, type Warmup } from '../../core/refreshing-cache.ts';
import { dateTime64 as ch, queryRows } from '../../store/clickhouse.ts';
import { scores } from '../preference/bradley-terry.ts';
import { revealedPreference } from '../preference/revealed.ts';

export const PREFERENCE_WEEKS = { month: 5, quarter: 13, year: 52 } as const;

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

export const PreferenceSchema = Type.Object({
  period: Type.String(),
  computed_at: Type.String({ description: 'when this result was computed: it is recomputed at most every PREFERENCE_REFRESH_S' }),
  category: Nullable(Type.String()),
  from: Type.String(),
  to: Type.String(),
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
    outcomes: Type.Integer(),
    scores: Type.Array(
      Type.Object({ model: Type.String(), score: Type.Number(), low: Type.Number(), high: Type.Number(), comparisons: Type.Integer(), tied_with: Type.Array(Type.String()) }),
    ),
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
    }),
  ),
});

/** The whole result for one period and category (seconds at tens of millions of raw rows). */
async function computePreference(clickhouse: ClickHouseClient, period: keyof typeof PREFERENCE_WEEKS, category: string | null): Promise<Static<typeof PreferenceSchema>> {
  const now = Date.now();
  const monday = Date.parse(new Date(now - ((new Date(now).getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10));
  const from = monday - (PREFERENCE_WEEKS[period] - 1) * 7 * 86_400_000;
  const p = { from: ch(from), to: ch(now + 1), category: category ?? '' };
  const revealed = await revealedPreference(clickhouse, from, now + 1, category);
  const sc = scores(revealed.pairs, { resamples: 100, seed: 7 });

  // Price events: each price change in the window, with the model's token share 48 h before and after.
  const changes = await queryRows<{ model: string; endpoint_id: string; at: string; ms: string; price_prompt: number; price_completion: number }>(
    clickhouse,
    `SELECT model, endpoint_id, formatDateTime(ts, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS at, toUnixTimestamp64Milli(ts) AS ms, price_prompt, price_completion
       FROM catalog_history WHERE change = 'price' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} ORDER BY ts`,
    p,
  );
  const priceEvents = await Promise.all(
    changes.map(async (c) => {
      const at = Number(c.ms);
      // One scan of the 96 hours: each model's answered tokens before and after, shares of their totals.
      const tokens = await queryRows<{ model: string; before: string; after: string }>(
        clickhouse,
        `SELECT served_model AS model,
                sumIf(tokens_prompt + tokens_completion, ts < {at:DateTime64(3, 'UTC')}) AS before,
                sumIf(tokens_prompt + tokens_completion, ts >= {at:DateTime64(3, 'UTC')}) AS after
           FROM requests
          WHERE ts >= {b:DateTime64(3, 'UTC')} AND ts < {a:DateTime64(3, 'UTC')} AND status = 200 AND served_model != ''
            AND ({category:String} = '' OR category = {category:String})
          GROUP BY model`,
        { at: ch(at), b: ch(at - 48 * 3_600_000), a: ch(at + 48 * 3_600_000), category: category ?? '' },
      );
      const total = (k: 'before' | 'after') =>
        Math.max(
          1,
          tokens.reduce((n, t) => n + Number(t[k]), 0),
        );
      const [before, after] = [total('before'), total('after')];
      const shares = tokens
        .map((t) => ({ model: t.model, before: Number(t.before) / before, after: Number(t.after) / after }))
        .sort((x, y) => y.before - x.before || x.model.localeCompare(y.model));
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
      };
    }),
  );

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
      outcomes: revealed.pairs.reduce((n, x) => n + x.count, 0),
      scores: sc.map((s) => ({
        model: s.item,
        score: s.score,
        low: s.low,
        high: s.high,
        comparisons: s.comparisons,
        tied_with: sc.filter((o) => o.item !== s.item && o.low <= s.high && s.low <= o.high).map((o) => o.item),
      })),
    },
    price_events: priceEvents,
  };
}

export function registerPreferenceRoute(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; refreshS: number; warmup?: Warmup }): void {
  // Weekly figures over a month or more of raw rows: computed at most every refreshS, served from memory
  // in between (a stale result while the next one is computed).
  const cached = refreshing(
    deps.refreshS * 1000,
    (q: { period: keyof typeof PREFERENCE_WEEKS; category: string | null }) => computePreference(deps.clickhouse, q.period, q.category),
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
      const period = (request.query.period ?? 'quarter') as keyof typeof PREFERENCE_WEEKS;
      const category = request.query.category ?? null;
      return cached({ period, category });
    },
  );
}
