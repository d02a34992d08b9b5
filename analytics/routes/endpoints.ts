// GET …/models/{author}/{slug}/endpoints: a model's provider endpoints as OpenRouter lists them, with the
// fleet's figures from telemetry (uptime over 5 min, 30 min and a day; time to first token and streaming
// throughput by percentile over 30 min) and the status of the fleet's live signal.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Catalog } from '../../catalog/catalog.ts';
import { architectureOf, CATALOG_CREATED, descriptionOf, pricingOf, supportedParameters } from '../../catalog/public.ts';
import { notFound } from '../../core/errors.ts';
import type { SignalTable } from '../../router/health/signals.ts';
import { endpointFigures } from '../../store/endpoint-queries.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import { ArchitectureSchema, PercentilesSchema, PricingSchema } from '../../http/catalog-schemas.ts';
import { underEveryBase } from '../../http/paths.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import type { EndpointStatus } from '../../telemetry/signal.ts';

const Params = Type.Object({ author: Type.String({ minLength: 1, maxLength: 128 }), slug: Type.String({ minLength: 1, maxLength: 128 }) });

/** OpenRouter's numeric endpoint status (0: serving normally; lower: worse), from the fleet's signal. */
const STATUS_CODES: Record<EndpointStatus | 'unknown', number> = { healthy: 0, unknown: 0, recovering: -1, degraded: -2, down: -3 };

const EndpointSchema = Type.Object({
  name: Type.String(),
  model_id: Type.String(),
  model_name: Type.String(),
  context_length: Type.Integer(),
  pricing: PricingSchema,
  provider_name: Type.String(),
  tag: Type.String({ description: 'the provider slug' }),
  quantization: Type.String(),
  max_completion_tokens: Type.Integer(),
  max_prompt_tokens: Type.Integer(),
  supported_parameters: Type.Array(Type.String()),
  status: Type.Integer({ description: '0 serving normally, -1 recovering, -2 degraded, -3 down (the fleet signal)' }),
  uptime_last_5m: Nullable(Type.Number({ description: 'percent' })),
  uptime_last_30m: Nullable(Type.Number({ description: 'percent' })),
  uptime_last_1d: Nullable(Type.Number({ description: 'percent' })),
  supports_implicit_caching: Type.Boolean(),
  latency_last_30m: PercentilesSchema,
  throughput_last_30m: PercentilesSchema,
  endpoint_id: Type.String({ description: 'Switchboard extra: the id in telemetry and routing explanations' }),
  status_name: Type.String({ description: 'Switchboard extra: the signal status (unknown: no fresh signal)' }),
  requests_last_30m: Type.Integer({ description: 'Switchboard extra: attempts the uptime over 30 min is computed from' }),
  data_policy: Type.Object({ training: Type.Boolean(), retains_prompts: Type.Boolean() }),
});

export const ModelEndpointsSchema = Type.Object({
  data: Type.Object({
    id: Type.String(),
    name: Type.String(),
    created: Type.Integer(),
    description: Type.String(),
    architecture: ArchitectureSchema,
    endpoints: Type.Array(EndpointSchema),
  }),
});

export function registerEndpointsRoute(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; catalog: Catalog; signals?: SignalTable; clock?: () => number }): void {
  for (const url of underEveryBase('/models/:author/:slug/endpoints')) {
    app.get<{ Params: Static<typeof Params> }>(
      url,
      {
        schema: {
          summary: "A model's provider endpoints with prices, limits, uptime, latency and throughput",
          tags: ['analytics'],
          params: Params,
          response: { 200: ModelEndpointsSchema, ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const id = `${request.params.author}/${request.params.slug}`;
        const model = deps.catalog.model(id);
        if (!model) throw notFound(`model ${id} is not in the catalog`, 'model_not_found');
        const now = (deps.clock ?? Date.now)();
        const figures = await endpointFigures(
          deps.clickhouse,
          model.endpoints.map((e) => e.id),
          now,
        );
        return {
          data: {
            id: model.id,
            name: model.name,
            created: CATALOG_CREATED,
            description: descriptionOf(model),
            architecture: architectureOf(model),
            endpoints: model.endpoints.map((e) => {
              const f = figures.get(e.id);
              const status = deps.signals?.fresh(e.id, now)?.status ?? 'unknown';
              const provider = deps.catalog.providerName(e.provider);
              return {
                name: `${provider} | ${model.name}`,
                model_id: model.id,
                model_name: model.name,
                context_length: e.contextLength,
                pricing: pricingOf(e),
                provider_name: provider,
                tag: e.provider,
                quantization: e.quantization,
                max_completion_tokens: e.maxCompletionTokens,
                max_prompt_tokens: e.contextLength,
                supported_parameters: supportedParameters(e),
                status: STATUS_CODES[status],
                uptime_last_5m: f?.uptime_5m ?? null,
                uptime_last_30m: f?.uptime_30m ?? null,
                uptime_last_1d: f?.uptime_1d ?? null,
                supports_implicit_caching: false,
                latency_last_30m: f?.latency_30m ?? null,
                throughput_last_30m: f?.throughput_30m ?? null,
                endpoint_id: e.id,
                status_name: status,
                requests_last_30m: f?.requests_30m ?? 0,
                data_policy: { training: e.dataPolicy.training, retains_prompts: e.dataPolicy.retainsPrompts },
              };
            }),
          },
        };
      },
    );
  }
}
