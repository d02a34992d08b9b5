// GET …/generation?id=: one request's record as OpenRouter gives it (cost, timing, finish reasons, the
// provider and its id of the answer), with Switchboard's extras beside it (every attempt, the fallback
// depth, the endpoint and the category). Owner only.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Catalog } from '../../catalog/catalog.ts';
import { notFound } from '../../core/errors.ts';
import { chargedUsd } from '../../core/money.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { underEveryBase } from '../../http/paths.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { attemptsOf, generation, type GenerationRow } from '../../store/account-queries.ts';

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

const Text = Nullable(Type.String());

export const GenerationSchema = Type.Object({
  data: Type.Object({
    // OpenRouter's fields.
    id: Type.String(),
    created_at: Type.String(),
    model: Type.String(),
    total_cost: Type.Number({ description: 'USD charged: the provider cost and the platform fee' }),
    upstream_inference_cost: Type.Number(),
    usage: Type.Number({ description: 'USD charged, as total_cost' }),
    is_byok: Type.Boolean(),
    upstream_id: Text,
    app_id: Text,
    external_user: Text,
    streamed: Type.Boolean(),
    cancelled: Type.Boolean({ description: 'the client went away before the answer was complete' }),
    provider_name: Type.String(),
    latency: Type.Number({ description: 'ms to the first token' }),
    generation_time: Type.Number({ description: 'ms from the request to the last byte' }),
    finish_reason: Text,
    native_finish_reason: Text,
    tokens_prompt: Type.Integer(),
    tokens_completion: Type.Integer(),
    native_tokens_prompt: Type.Integer(),
    native_tokens_completion: Type.Integer(),
    native_tokens_reasoning: Type.Integer(),
    native_tokens_cached: Type.Integer(),
    // Switchboard's.
    requested_model: Type.String(),
    provider: Type.String({ description: 'provider slug' }),
    endpoint_id: Type.String(),
    app: Type.String(),
    category: Type.String(),
    status: Type.Integer(),
    error_class: Type.String(),
    latency_ms: Type.Number(),
    ttft_ms: Type.Number(),
    cost_usd: Type.Number(),
    platform_fee_usd: Type.Number(),
    fallback_depth: Type.Integer(),
    attempts: Type.Array(Attempt),
  }),
});

const orNull = (s: string) => (s === '' ? null : s);

function openRouterFields(row: GenerationRow, catalog: Catalog) {
  const charged = chargedUsd(row.cost_usd, row.platform_fee_usd);
  return {
    total_cost: charged,
    upstream_inference_cost: row.cost_usd,
    usage: charged,
    is_byok: false,
    upstream_id: orNull(row.upstream_id),
    app_id: orNull(row.app),
    external_user: orNull(row.external_user),
    cancelled: row.error_class === 'client_abort',
    provider_name: catalog.providerName(row.provider),
    latency: row.ttft_ms,
    generation_time: row.latency_ms,
    finish_reason: orNull(row.finish_reason),
    native_finish_reason: orNull(row.native_finish_reason),
    native_tokens_prompt: row.tokens_prompt,
    native_tokens_completion: row.tokens_completion,
    native_tokens_reasoning: row.tokens_reasoning,
    native_tokens_cached: row.tokens_cached,
  };
}

export function registerGenerationRoute(app: FastifyInstance, deps: { keys: KeyStore; clickhouse: ClickHouseClient; catalog: Catalog }): void {
  for (const url of underEveryBase('/generation')) {
    app.get<{ Querystring: Static<typeof Query> }>(
      url,
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
        const row = await generation(deps.clickhouse, request.query.id, key.account_id);
        // Another account's generation answers exactly like a missing one: existence is not disclosed.
        if (!row) throw notFound(`no generation ${request.query.id} for this account (records appear within a few seconds)`, 'generation_not_found');
        const attempts = await attemptsOf(deps.clickhouse, request.query.id, key.account_id);
        const { finish_reason: _f, native_finish_reason: _n, upstream_id: _u, external_user: _e, tokens_cached: _c, tokens_reasoning: _r, ...ours } = row;
        return { data: { ...ours, ...openRouterFields(row, deps.catalog), attempts } };
      },
    );
  }
}
