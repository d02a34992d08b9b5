// The HTTP application: plugins, validation, error mapping and every route, without listening. Tests use
// it through app.inject(); service/server.ts adds listening and shutdown.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { KeyStore } from '../router/auth/key-store.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { RateLimiter } from '../router/auth/rate-limit.ts';
import type { ChatDeps } from '../router/chat.ts';
import { registerChatRoute } from '../router/routes/chat.ts';
import { registerModelsRoute } from '../router/routes/models.ts';
import { registerGenerationRoute } from '../analytics/routes/generation.ts';
import { registerRankingsRoutes } from '../analytics/routes/rankings.ts';
import { registerUsageRoutes } from '../analytics/routes/usage.ts';
import { registerModelStatsRoute } from '../analytics/routes/model-stats.ts';
import { registerPreferenceRoute } from '../analytics/routes/preference.ts';
import { registerExportsRoute } from '../analytics/routes/exports.ts';
import { registerShareRoute } from '../analytics/routes/share.ts';
import { registerSessionRoutes } from '../analytics/routes/sessions.ts';
import { registerRecommendationsRoute } from '../analytics/routes/recommendations.ts';
import type { PreferenceScores } from '../router/routing/preference-scores.ts';
import type { KeyAuthority } from '../analytics/governance/authority.ts';
import { registerKeysRoutes } from '../analytics/routes/keys.ts';
import { registerAuditRoutes } from '../analytics/routes/audit.ts';
import { registerEndpointsRoute } from '../analytics/routes/endpoints.ts';
import { registerProviderStatusRoute, type ProviderStatusDeps } from '../analytics/routes/provider-status.ts';
import { installErrorHandling } from '../http/error-handler.ts';
import { ApiError } from '../core/errors.ts';
import { clientErrorHandler, limitedServer, type HttpLimits } from '../http/http-limits.ts';
import { installValidation } from '../http/validation.ts';
import { installAuth, requireToken } from '../http/auth.ts';
import { installForwarding } from '../http/forward.ts';
import { registerOpsRoutes, type OpsDeps } from './ops-routes.ts';
import { registerWeb } from '../web/serve.ts';
import type { Warmup } from '../core/refreshing-cache.ts';

export interface AppDeps {
  logger: Logger;
  /** Connection limits (absent: Node's defaults, for in-process uses such as benches). */
  http?: HttpLimits;
  /** True once the service is stopping: new requests get 503 and every answer closes its connection. */
  draining?: () => boolean;
  /** When set, /metrics, /docs and /openapi.json need it as a bearer token. */
  opsToken?: string;
  metrics: Metrics;
  bodyLimitBytes: number;
  keys: KeyStore;
  /** Analytics role: the key authority, for the management API. */
  authority?: KeyAuthority;
  catalog: Catalog;
  appMinUsers: number;
  /** Requests per minute of a key that sets none (shown by …/key). */
  defaultRateLimitPerMinute: number;
  preferenceRefreshS: number;
  publicRefreshS: number;
  /** What the public figures take as now (default: the system clock). */
  clock?: () => number;
  /** Analytics role: the revealed-preference tables it publishes for switchboard/auto. */
  preference?: PreferenceScores;
  /** Collects the public figures worth computing ahead (the caller decides when). */
  warmup?: Warmup;
  /** Router role: present when this process routes requests. */
  router?: { chat: ChatDeps; rateLimiter: RateLimiter };
  /** Analytics role: present when this process answers analytics queries. */
  clickhouse?: ClickHouseClient;
  /** Router or analytics role: the fleet's signals, for the status API. */
  status?: ProviderStatusDeps;
  /** The public pages' build directory (embedded and analytics roles). */
  webDir?: string;
  /** A router under the supervisor: where what it does not serve goes (the data process). */
  forwardTo?: string;
  ops: Omit<OpsDeps, 'metrics' | 'health'>;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    serverFactory: deps.http ? limitedServer(deps.http) : undefined,
    clientErrorHandler,
    // Per-request log lines cost more than the routing itself at thousands of requests per second.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (nothing logs per request; the error handler names the request id itself).
    childLoggerFactory: (logger) => logger,
    // Our own 503 while draining (below), in the API's error shape.
    return503OnClosing: false,
  });
  installValidation(app);
  installAuth(app);
  installErrorHandling(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Switchboard', version: '0.1.0', description: 'One OpenAI-compatible endpoint over many model providers, with telemetry and revealed-preference analytics.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  const opsGuard = deps.opsToken === undefined ? undefined : requireToken(deps.opsToken);
  await app.register(swaggerUi, { routePrefix: '/docs', uiHooks: opsGuard ? { onRequest: opsGuard } : undefined });

  const draining = deps.draining;
  if (draining) {
    app.addHook('onRequest', (_request, reply, done) => {
      if (!draining()) return done();
      reply.header('connection', 'close');
      done(new ApiError(503, 'service_unavailable', 'shutting_down', 'this instance is shutting down; retry the request', { retryAfterSeconds: 1 }));
    });
    app.addHook('onSend', (_request, reply, _payload, done) => {
      if (draining()) reply.header('connection', 'close');
      done();
    });
  }

  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    done();
  });

  if (deps.router) {
    registerChatRoute(app, { chat: deps.router.chat, keys: deps.keys, rateLimiter: deps.router.rateLimiter });
    registerModelsRoute(app, { catalog: deps.catalog, health: deps.router.chat.health });
  }
  if (deps.clickhouse) {
    registerGenerationRoute(app, { keys: deps.keys, clickhouse: deps.clickhouse, catalog: deps.catalog });
    registerUsageRoutes(app, { keys: deps.keys, clickhouse: deps.clickhouse, catalog: deps.catalog, defaultRateLimitPerMinute: deps.defaultRateLimitPerMinute });
    registerEndpointsRoute(app, { clickhouse: deps.clickhouse, catalog: deps.catalog, signals: deps.status?.signals });
    registerRankingsRoutes(app, { clickhouse: deps.clickhouse, appMinUsers: deps.appMinUsers, refreshS: deps.publicRefreshS, warmup: deps.warmup, clock: deps.clock });
    registerModelStatsRoute(app, { clickhouse: deps.clickhouse, catalog: deps.catalog, appMinUsers: deps.appMinUsers, refreshS: deps.publicRefreshS, warmup: deps.warmup });
    registerPreferenceRoute(app, { clickhouse: deps.clickhouse, refreshS: deps.preferenceRefreshS, warmup: deps.warmup });
    registerShareRoute(app, { clickhouse: deps.clickhouse, clock: deps.clock });
    registerSessionRoutes(app, { keys: deps.keys, clickhouse: deps.clickhouse });
    registerRecommendationsRoute(app, { keys: deps.keys, clickhouse: deps.clickhouse, catalog: deps.catalog, preference: deps.preference });
    registerExportsRoute(app, { clickhouse: deps.clickhouse });
    if (deps.authority) {
      registerKeysRoutes(app, { keys: deps.keys, authority: deps.authority, clickhouse: deps.clickhouse, catalog: deps.catalog });
      registerAuditRoutes(app, { keys: deps.keys, clickhouse: deps.clickhouse, heads: deps.authority.headFile });
    }
  }
  if (deps.status) registerProviderStatusRoute(app, deps.status);
  if (deps.webDir) await registerWeb(app, deps.webDir);
  if (deps.forwardTo) installForwarding(app, deps.forwardTo);
  registerOpsRoutes(app, { ...deps.ops, metrics: deps.metrics, health: deps.router?.chat.health, guard: opsGuard });

  app.get('/openapi.json', { onRequest: opsGuard, schema: { summary: 'This API, as OpenAPI 3 (generated from the route schemas)', tags: ['ops'] } }, async () => app.swagger());
  return app;
}
