import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { notFound } from '../../core/errors.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { queryRows } from '../../store/clickhouse.ts';

const Query = Type.Object({ id: Type.String({ pattern: '^gen-[A-Za-z0-9_-]{1,80}$', description: 'generation id from a completion' }) }, { additionalProperties: false });

const Attempt = Type.Object({
  attempt: Type.Integer(),
  model: Type.String(),
  provider: Type.String(),
  endpoint_id: Type.String(),
  status: Type.Integer(),
  error_class: Type.String(),
  latency_ms: Type.Number(),
  ttft_ms: Type.Number(),
  tokens_prompt: Type.Integer(),
  tokens_completion: Type.Integer(),
  cost_usd: Type.Number(),
});

export const GenerationSchema = Type.Object({
  data: Type.Object({
    id: Type.String(),
    created_at: Type.String(),
    requested_model: Type.String(),
    model: Type.String(),
    provider: Type.String(),
    endpoint_id: Type.String(),
    app: Type.String(),
    category: Type.String(),
    status: Type.Integer(),
    error_class: Type.String(),
    streamed: Type.Boolean(),
    latency_ms: Type.Number(),
    ttft_ms: Type.Number(),
    tokens_prompt: Type.Integer(),
    tokens_completion: Type.Integer(),
    cost_usd: Type.Number(),
    platform_fee_usd: Type.Number(),
    fallback_depth: Type.Integer(),
    attempts: Type.Array(Attempt),
  }),
});

type Row = Omit<Static<typeof GenerationSchema>['data'], 'attempts' | 'id'> & { id: string };

export function registerGenerationRoute(app: FastifyInstance, deps: { keys: KeyStore; clickhouse: ClickHouseClient }): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/v1/generation',
    {
      onRequest: requireKey(deps.keys),
      schema: {
        summary: "One request's record: model, provider, tokens, cost, latency and every attempt (owner only)",
        description: 'Records reach ClickHouse in batches about once a second: a generation a moment old may answer 404 until then.',
        tags: ['analytics'],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: GenerationSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const key = keyOf(request);
      const params = { id: request.query.id, account: key.account_id };
      const [row] = await queryRows<Row>(
        deps.clickhouse,
        `SELECT generation_id AS id, formatDateTime(ts, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS created_at, requested_model, served_model AS model,
                provider, endpoint_id, app, category, status, error_class, streamed, latency_ms, ttft_ms, tokens_prompt, tokens_completion,
                cost_usd, fee_usd AS platform_fee_usd, fallback_depth
           FROM requests WHERE generation_id = {id:String} AND account_id = {account:String} LIMIT 1`,
        params,
      );
      // Another account's generation answers exactly like a missing one: existence is not disclosed.
      if (!row) throw notFound(`no generation ${request.query.id} for this account (records appear within a few seconds)`, 'generation_not_found');
      const attempts = await queryRows<Static<typeof Attempt>>(
        deps.clickhouse,
        `SELECT attempt, model, provider, endpoint_id, status, error_class, latency_ms, ttft_ms, tokens_prompt, tokens_completion, cost_usd
           FROM attempts WHERE generation_id = {id:String} AND account_id = {account:String} ORDER BY attempt`,
        params,
      );
      return { data: { ...row, attempts } };
    },
  );
}
