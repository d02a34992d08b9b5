import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Catalog } from '../../catalog/catalog.ts';
import { PRICES_COMPILED_ON } from '../../catalog/data.ts';
import type { HealthRegistry } from '../health/registry.ts';
import { Nullable } from '../../http/schemas.ts';

const EndpointSchema = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  provider_name: Type.String(),
  context_length: Type.Integer(),
  max_completion_tokens: Type.Integer(),
  quantization: Type.String(),
  pricing: Type.Object({ prompt: Type.Number(), completion: Type.Number() }, { description: 'USD per million tokens' }),
  supports_tools: Type.Boolean(),
  supports_response_format: Type.Boolean(),
  stats: Type.Object({
    breaker: Type.String(),
    requests_5m: Type.Integer(),
    uptime_5m: Nullable(Type.Number()),
    rate_limited_5m: Type.Integer(),
    ttft_p50_ms: Nullable(Type.Number()),
    completion_tokens_p50: Nullable(Type.Number()),
    latency_p50_ms: Nullable(Type.Number()),
    latency_p99_ms: Nullable(Type.Number()),
    tokens_per_second_p50: Nullable(Type.Number()),
  }),
});

const ModelSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
  name: Type.String(),
  author: Type.String(),
  context_length: Type.Integer(),
  pricing: Type.Object({ prompt: Type.Number(), completion: Type.Number() }, { description: 'lowest USD per million tokens among endpoints' }),
  endpoints: Type.Array(EndpointSchema),
});

export const ModelListSchema = Type.Object({ object: Type.Literal('list'), prices_compiled_on: Type.String(), data: Type.Array(ModelSchema) });

export function registerModelsRoute(app: FastifyInstance, deps: { catalog: Catalog; health: HealthRegistry }): void {
  app.get(
    '/v1/models',
    { schema: { summary: 'The catalog: models, their provider endpoints, prices and live stats', tags: ['router'], response: { 200: ModelListSchema } } },
    async () => {
      const now = Date.now();
      return {
        object: 'list' as const,
        prices_compiled_on: PRICES_COMPILED_ON,
        data: deps.catalog.models.map((m) => ({
          id: m.id,
          object: 'model' as const,
          created: 0,
          owned_by: m.author,
          name: m.name,
          author: m.author,
          context_length: m.contextLength,
          pricing: { prompt: Math.min(...m.endpoints.map((e) => e.pricePrompt)), completion: Math.min(...m.endpoints.map((e) => e.priceCompletion)) },
          endpoints: m.endpoints.map((e) => {
            const h = deps.health.get(e);
            return {
              id: e.id,
              provider: e.provider,
              provider_name: deps.catalog.providers.get(e.provider)?.name ?? e.provider,
              context_length: e.contextLength,
              max_completion_tokens: e.maxCompletionTokens,
              quantization: e.quantization,
              pricing: { prompt: e.pricePrompt, completion: e.priceCompletion },
              supports_tools: e.supportsTools,
              supports_response_format: e.supportsResponseFormat,
              stats: { breaker: h.breaker.state(now), ...h.stats.snapshot(now) },
            };
          }),
        })),
      };
    },
  );
}
