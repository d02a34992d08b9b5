// The caller's own usage: by day, model, provider or key, from the per-account daily aggregate.
// Every query is scoped by the authenticated key's account; no parameter can widen it.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { badRequest } from '../../core/errors.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { queryRows } from '../../store/clickhouse.ts';
import { USAGE_RESUM } from '../../store/migrations.ts';

const DateText = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' });
const GROUPS = { day: 'toString(day)', model: 'model', provider: 'provider', key: 'key_id' } as const;

const Query = Type.Object(
  {
    from: Type.Optional(DateText),
    to: Type.Optional(DateText),
    group_by: Type.Optional(
      Type.Union(
        Object.keys(GROUPS).map((g) => Type.Literal(g)),
        { default: 'day' },
      ),
    ),
  },
  { additionalProperties: false },
);

const Figures = {
  requests: Type.Integer(),
  errors: Type.Integer(),
  tokens_prompt: Type.Integer(),
  tokens_completion: Type.Integer(),
  cost_usd: Type.Number(),
  platform_fee_usd: Type.Number(),
};

export const UsageSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  group_by: Type.String(),
  data: Type.Array(Type.Object({ group: Type.String(), ...Figures })),
  totals: Type.Object(Figures),
});

interface Row {
  group: string;
  requests: string;
  errors: string;
  tokens_prompt: string;
  tokens_completion: string;
  cost_nusd: string;
  fee_nusd: string;
}

const figures = (r: Omit<Row, 'group'>) => ({
  requests: Number(r.requests),
  errors: Number(r.errors),
  tokens_prompt: Number(r.tokens_prompt),
  tokens_completion: Number(r.tokens_completion),
  cost_usd: Number(r.cost_nusd) / 1e9,
  platform_fee_usd: Number(r.fee_nusd) / 1e9,
});

function dateRange(q: Static<typeof Query>): { from: string; to: string } {
  const to = q.to ?? new Date().toISOString().slice(0, 10);
  const from = q.from ?? new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10);
  const [f, t] = [Date.parse(from), Date.parse(to)];
  if (Number.isNaN(f) || new Date(f).toISOString().slice(0, 10) !== from) throw badRequest(`from=${from} is not a calendar date`, 'invalid_date', 'from');
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== to) throw badRequest(`to=${to} is not a calendar date`, 'invalid_date', 'to');
  if (f > t) throw badRequest('from must not be after to', 'invalid_range', 'from');
  if (t - f > 366 * 86_400_000) throw badRequest('the range is limited to 366 days', 'invalid_range', 'from');
  return { from, to };
}

export function registerUsageRoutes(app: FastifyInstance, deps: { keys: KeyStore; clickhouse: ClickHouseClient }): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/v1/usage',
    {
      onRequest: requireKey(deps.keys),
      schema: {
        summary: "The caller's usage and spend, by day, model, provider or key (owner only)",
        tags: ['analytics'],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: UsageSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const key = keyOf(request);
      const { from, to } = dateRange(request.query);
      const groupBy = (request.query.group_by ?? 'day') as keyof typeof GROUPS;
      const params = { account: key.account_id, from, to };
      const where = 'account_id = {account:String} AND day BETWEEN {from:Date} AND {to:Date}';
      // The grouping expression comes from a fixed table indexed by a validated enum, never from input text.
      const rows = await queryRows<Row>(
        deps.clickhouse,
        `SELECT ${GROUPS[groupBy]} AS group, ${USAGE_RESUM} FROM usage_daily_account WHERE ${where} GROUP BY group ORDER BY group`,
        params,
      );
      const [totals] = await queryRows<Omit<Row, 'group'>>(deps.clickhouse, `SELECT ${USAGE_RESUM} FROM usage_daily_account WHERE ${where}`, params);
      return { from, to, group_by: groupBy, data: rows.map((r) => ({ group: r.group, ...figures(r) })), totals: figures(totals) };
    },
  );

  app.get(
    '/api/v1/activity',
    {
      onRequest: requireKey(deps.keys),
      schema: {
        summary: "The caller's last 30 days by day, model and endpoint (owner only)",
        tags: ['analytics'],
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ data: Type.Array(Type.Object({ date: Type.String(), model: Type.String(), provider: Type.String(), endpoint_id: Type.String(), ...Figures })) }),
          ...errorResponses(401),
        },
      },
    },
    async (request) => {
      const key = keyOf(request);
      const rows = await queryRows<Row & { model: string; provider: string }>(
        deps.clickhouse,
        `SELECT toString(day) AS group, model, provider, ${USAGE_RESUM} FROM usage_daily_account
          WHERE account_id = {account:String} AND day >= today() - 29 GROUP BY group, model, provider ORDER BY group DESC, model, provider`,
        { account: key.account_id },
      );
      return { data: rows.map((r) => ({ date: r.group, model: r.model, provider: r.provider, endpoint_id: r.provider ? `${r.provider}:${r.model}` : '', ...figures(r) })) };
    },
  );

  app.get(
    '/api/v1/key',
    {
      onRequest: requireKey(deps.keys),
      schema: {
        summary: 'The calling key: its limits and what it has spent',
        tags: ['analytics'],
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            data: Type.Object({
              id: Type.String(),
              name: Type.String(),
              account_id: Type.String(),
              rate_limit_per_minute: Type.Union([Type.Integer(), Type.Null()]),
              spend_limit_usd: Type.Union([Type.Number(), Type.Null()]),
              usage_usd: Type.Number(),
              limit_remaining_usd: Type.Union([Type.Number(), Type.Null()]),
            }),
          }),
          ...errorResponses(401),
        },
      },
    },
    async (request) => {
      const key = keyOf(request);
      const [r] = await queryRows<{ spent: string }>(
        deps.clickhouse,
        'SELECT sum(cost_nusd + fee_nusd) AS spent FROM usage_daily_account WHERE account_id = {account:String} AND key_id = {key:String}',
        { account: key.account_id, key: key.id },
      );
      const usage = Number(r.spent) / 1e9;
      return {
        data: {
          id: key.id,
          name: key.name,
          account_id: key.account_id,
          rate_limit_per_minute: key.rate_limit_per_minute,
          spend_limit_usd: key.spend_limit_usd,
          usage_usd: usage,
          limit_remaining_usd: key.spend_limit_usd === null ? null : Math.max(0, key.spend_limit_usd - usage),
        },
      };
    },
  );
}
