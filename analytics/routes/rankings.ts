// Public leaderboards from the hourly aggregate: top models by tokens in the period with share, rank,
// change of rank and growth against the previous period, an "other" row, and market share by author.
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { CATEGORIES } from '../../router/classify.ts';
import { errorResponses } from '../../service/schemas.ts';
import { queryRows } from '../clickhouse.ts';

export const PERIOD_HOURS = { day: 24, week: 24 * 7, month: 24 * 30 } as const;

const Query = Type.Object(
  {
    period: Type.Optional(Type.Union(Object.keys(PERIOD_HOURS).map((p) => Type.Literal(p)), { default: 'week' })),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const RankingsSchema = Type.Object({
  period: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  from: Type.String(),
  to: Type.String(),
  total_tokens: Type.Integer(),
  models: Type.Array(
    Type.Object({
      rank: Type.Integer(),
      model: Type.String(),
      author: Type.String(),
      tokens: Type.Integer(),
      requests: Type.Integer(),
      share: Type.Number(),
      previous_rank: Nullable(Type.Integer()),
      rank_change: Nullable(Type.Integer()),
      growth: Nullable(Type.Number()),
    }),
  ),
  other: Type.Object({ models: Type.Integer(), tokens: Type.Integer(), share: Type.Number() }),
  authors: Type.Array(Type.Object({ author: Type.String(), tokens: Type.Integer(), share: Type.Number() })),
});

interface ModelRow {
  model: string;
  author: string;
  tokens: string;
  requests: string;
}

/** The period as whole hours ending with the current one: [from, to). */
export function periodWindow(period: keyof typeof PERIOD_HOURS, now = Date.now()): { from: Date; to: Date; prevFrom: Date } {
  const to = new Date(Math.floor(now / 3_600_000) * 3_600_000 + 3_600_000);
  const span = PERIOD_HOURS[period] * 3_600_000;
  return { from: new Date(to.getTime() - span), to, prevFrom: new Date(to.getTime() - 2 * span) };
}

const ch = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

export function registerRankingsRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient }): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/v1/rankings',
    {
      schema: {
        summary: 'Public leaderboard: top models by tokens, share, rank change and growth; market share by author',
        tags: ['analytics'],
        querystring: Query,
        response: { 200: RankingsSchema, ...errorResponses(400) },
      },
    },
    async (request) => {
      const period = (request.query.period ?? 'week') as keyof typeof PERIOD_HOURS;
      const limit = request.query.limit ?? 20;
      const category = request.query.category ?? null;
      const w = periodWindow(period);
      const byModel = (from: Date, to: Date) =>
        queryRows<ModelRow>(
          deps.clickhouse,
          `SELECT model, any(author) AS author, sum(tokens_prompt + tokens_completion) AS tokens, sum(requests) AS requests
             FROM usage_hourly
            WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} AND model != ''
              AND ({category:String} = '' OR category = {category:String})
            GROUP BY model ORDER BY tokens DESC, model`,
          { from: ch(from), to: ch(to), category: category ?? '' },
        );
      const [current, previous] = await Promise.all([byModel(w.from, w.to), byModel(w.prevFrom, w.from)]);
      const total = current.reduce((s, r) => s + Number(r.tokens), 0);
      const share = (t: number) => (total > 0 ? t / total : 0);
      const prev = new Map(previous.map((r, i) => [r.model, { rank: i + 1, tokens: Number(r.tokens) }]));
      const models = current.slice(0, limit).map((r, i) => {
        const p = prev.get(r.model);
        const tokens = Number(r.tokens);
        return {
          rank: i + 1,
          model: r.model,
          author: r.author,
          tokens,
          requests: Number(r.requests),
          share: share(tokens),
          previous_rank: p?.rank ?? null,
          rank_change: p ? p.rank - (i + 1) : null,
          growth: p && p.tokens > 0 ? (tokens - p.tokens) / p.tokens : null,
        };
      });
      const rest = current.slice(limit);
      const restTokens = rest.reduce((s, r) => s + Number(r.tokens), 0);
      const authors = new Map<string, number>();
      for (const r of current) authors.set(r.author, (authors.get(r.author) ?? 0) + Number(r.tokens));
      return {
        period,
        category,
        from: w.from.toISOString(),
        to: w.to.toISOString(),
        total_tokens: total,
        models,
        other: { models: rest.length, tokens: restTokens, share: share(restTokens) },
        authors: [...authors].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([author, tokens]) => ({ author, tokens, share: share(tokens) })),
      };
    },
  );
}
