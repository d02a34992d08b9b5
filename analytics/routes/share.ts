// Longer views of the leaderboard: each author's, category's or model's share of tokens per day, week or
// month over any span of whole days (complete days only: the current one is left out), the ten largest
// named and the rest as "other".
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { CATEGORIES } from '../../router/classify.ts';
import { badRequest } from '../../core/errors.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { DAY_MS, isoDay } from '../../core/time.ts';
import { tokensOverTime } from '../../store/share-queries.ts';

const MAX_DAYS = 731;
const SHOWN = 10;
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' });

const Query = Type.Object(
  {
    by: Type.Optional(Type.Union([Type.Literal('author'), Type.Literal('category'), Type.Literal('model')], { default: 'author' })),
    bucket: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')], { description: 'default: day up to 60 days, week beyond' })),
    from: Type.Optional({ ...Day, description: 'first day (default: 90 days before `to`)' }),
    to: Type.Optional({ ...Day, description: 'last day, included (default and latest: yesterday, the last complete day)' }),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)))),
  },
  { additionalProperties: false },
);

export const ShareSchema = Type.Object({
  computed_at: Type.String(),
  by: Type.String(),
  bucket: Type.String(),
  from: Type.String(),
  to: Type.String({ description: 'last day counted (included)' }),
  category: Nullable(Type.String()),
  totals: Type.Array(Type.Object({ t: Type.String(), tokens: Type.Integer() })),
  points: Type.Array(Type.Object({ t: Type.String(), key: Type.String(), tokens: Type.Integer(), share: Type.Number() }), {
    description: `the ${SHOWN} keys with the most tokens over the span, the rest as "other"`,
  }),
});

export function registerShareRoute(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; clock?: () => number }): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/v1/rankings/share',
    {
      schema: {
        summary: 'Share of tokens over time by author, category or model, over any span of whole days',
        tags: ['analytics'],
        querystring: Query,
        response: { 200: ShareSchema, ...errorResponses(400) },
      },
    },
    async (request) => {
      const now = (deps.clock ?? Date.now)();
      const q = request.query;
      const latest = isoDay(now - DAY_MS);
      const wanted = q.to ?? latest;
      if (Number.isNaN(Date.parse(wanted))) throw badRequest(`to: ${wanted} is not a date`, 'invalid_request', 'to');
      const to = wanted > latest ? latest : wanted;
      const from = q.from ?? isoDay(Date.parse(to) - 89 * DAY_MS);
      if (Number.isNaN(Date.parse(from))) throw badRequest(`from: ${from} is not a date`, 'invalid_request', 'from');
      const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
      if (days < 1) throw badRequest(`from (${from}) is after the last complete day asked for (${to})`, 'invalid_request', 'from');
      if (days > MAX_DAYS) throw badRequest(`at most ${MAX_DAYS} days at once (asked for ${days})`, 'invalid_request', 'from');
      const by = q.by ?? 'author';
      const bucket = q.bucket ?? (days <= 60 ? 'day' : 'week');
      const rows = await tokensOverTime(deps.clickhouse, { by, bucket, from, to, category: q.category ?? null });
      const byKey = new Map<string, number>();
      for (const r of rows) byKey.set(r.key, (byKey.get(r.key) ?? 0) + r.tokens);
      const shown = new Set(
        [...byKey]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, SHOWN)
          .map(([k]) => k),
      );
      const totals = new Map<string, number>();
      const points = new Map<string, { t: string; key: string; tokens: number }>();
      for (const r of rows) {
        totals.set(r.t, (totals.get(r.t) ?? 0) + r.tokens);
        const key = shown.has(r.key) ? r.key : 'other';
        const p = points.get(`${r.t}|${key}`) ?? { t: r.t, key, tokens: 0 };
        p.tokens += r.tokens;
        points.set(`${r.t}|${key}`, p);
      }
      return {
        computed_at: new Date(now).toISOString(),
        by,
        bucket,
        from,
        to,
        category: q.category ?? null,
        totals: [...totals].map(([t, tokens]) => ({ t, tokens })),
        points: [...points.values()].map((p) => ({ ...p, share: p.tokens / totals.get(p.t)! })),
      };
    },
  );
}
