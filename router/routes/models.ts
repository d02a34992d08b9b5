// The catalog as this router sees it: GET …/models (OpenRouter's model list, plus each model's endpoints
// with this router's live figures) and GET …/providers. Neither needs a key, as on OpenRouter.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Catalog } from '../../catalog/catalog.ts';
import { PRICES_COMPILED_ON } from '../../catalog/data.ts';
import { pricingOf, publicModel, supportedParameters } from '../../catalog/public.ts';
import type { HealthRegistry } from '../health/registry.ts';
import { Nullable } from '../../http/schemas.ts';
import { PricingSchema, PublicModelFields } from '../../http/catalog-schemas.ts';
import { underEveryBase } from '../../http/paths.ts';

const RouterEndpointSchema = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  provider_name: Type.String(),
  context_length: Type.Integer(),
  max_completion_tokens: Type.Integer(),
  quantization: Type.String(),
  pricing: PricingSchema,
  supported_parameters: Type.Array(Type.String()),
  stats: Type.Object(
    {
      breaker: Type.String(),
      requests_5m: Type.Integer(),
      uptime_5m: Nullable(Type.Number()),
      rate_limited_5m: Type.Integer(),
      ttft_p50_ms: Nullable(Type.Number()),
      completion_tokens_p50: Nullable(Type.Number()),
      latency_p50_ms: Nullable(Type.Number()),
      latency_p99_ms: Nullable(Type.Number()),
      tokens_per_second_p50: Nullable(Type.Number()),
    },
    { description: "this router's own view over the last 5 minutes (the fleet's is at …/models/{author}/{slug}/endpoints)" },
  ),
});

const ModelSchema = Type.Object({
  ...PublicModelFields,
  object: Type.Literal('model'),
  owned_by: Type.String(),
  endpoints: Type.Array(RouterEndpointSchema, { description: 'Switchboard extra: every provider endpoint of the model' }),
});

export const ModelListSchema = Type.Object({ object: Type.Literal('list'), prices_compiled_on: Type.String(), data: Type.Array(ModelSchema) });

const ModelsQuery = Type.Object(
  { supported_parameters: Type.Optional(Type.String({ maxLength: 512, description: 'comma-separated: only models with an endpoint supporting all of them' })) },
  { additionalProperties: false },
);

const ProviderListSchema = Type.Object({
  data: Type.Array(
    Type.Object({
      name: Type.String(),
      slug: Type.String(),
      privacy_policy_url: Type.Null(),
      terms_of_service_url: Type.Null(),
      status_page_url: Type.Null(),
      data_policy: Type.Object(
        { training: Type.Boolean(), retains_prompts: Type.Boolean() },
        { description: 'Switchboard extra: whether it may train on or keep prompts (provider.data_collection and zdr filter on these)' },
      ),
    }),
  ),
});

export function registerModelsRoute(app: FastifyInstance, deps: { catalog: Catalog; health: HealthRegistry }): void {
  const { catalog, health } = deps;
  for (const url of underEveryBase('/models')) {
    app.get<{ Querystring: Static<typeof ModelsQuery> }>(
      url,
      {
        schema: {
          summary: 'The catalog: models, their provider endpoints, prices and live stats',
          tags: ['router'],
          querystring: ModelsQuery,
          response: { 200: ModelListSchema },
        },
      },
      async (request) => {
        const now = Date.now();
        const wanted = (request.query.supported_parameters ?? '').split(',').filter(Boolean);
        const models = catalog.models.filter((m) => wanted.length === 0 || m.endpoints.some((e) => wanted.every((p) => supportedParameters(e).includes(p))));
        return {
          object: 'list' as const,
          prices_compiled_on: PRICES_COMPILED_ON,
          data: models.map((m) => ({
            ...publicModel(m),
            object: 'model' as const,
            owned_by: m.author,
            endpoints: m.endpoints.map((e) => {
              const h = health.get(e);
              return {
                id: e.id,
                provider: e.provider,
                provider_name: catalog.providerName(e.provider),
                context_length: e.contextLength,
                max_completion_tokens: e.maxCompletionTokens,
                quantization: e.quantization,
                pricing: pricingOf(e),
                supported_parameters: supportedParameters(e),
                stats: { breaker: h.breaker.state(now), ...h.stats.snapshot(now) },
              };
            }),
          })),
        };
      },
    );
  }
  for (const url of underEveryBase('/providers')) {
    app.get(url, { schema: { summary: 'The providers Switchboard routes to, with their data policies', tags: ['router'], response: { 200: ProviderListSchema } } }, async () => ({
      data: [...catalog.providers.values()].map((p) => ({
        name: p.name,
        slug: p.slug,
        privacy_policy_url: null,
        terms_of_service_url: null,
        status_page_url: null,
        data_policy: { training: p.dataPolicy.training, retains_prompts: p.dataPolicy.retainsPrompts },
      })),
    }));
  }
}
