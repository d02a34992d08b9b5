// Public per-model stats: each provider endpoint's price, latency and time-to-first-token quantiles over
// the last day, throughput, uptime over 5 minutes, 30 minutes and 1 day, and daily token series.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Catalog, Model } from '../../catalog/catalog.ts';
import { refreshing, type Warmup } from '../../core/refreshing-cache.ts';
import { notFound } from '../../core/errors.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { queryRows } from '../../store/clickhouse.ts';
import { DAY_MS, HOUR_MS, isoDay } from '../../core/time.ts';
import { performanceOverTime } from '../../store/endpoint-queries.ts';

const Params = Type.Object({
  author: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
  slug: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' }),
});
const Quantiles = Nullable(Type.Object({ p50: Type.Number(), p90: Type.Number(), p99: Type.Number() }));

export const ModelStatsSchema = Type.Object({
  computed_at: Type.String({ description: 'when this result was computed: public figures are recomputed at most every PUBLIC_REFRESH_S' }),
  model: Type.String(),
  name: Type.String(),
  author: Type.String(),
  endpoints: Type.Array(
    Type.Object({
      endpoint: Type.String(),
      provider: Type.String(),
      provider_name: Type.String(),
      pricing: Type.Object({ prompt: Type.Number(), completion: Type.Number() }, { description: 'USD per million tokens' }),
      context_length: Type.Integer(),
      requests_1d: Type.Integer(),
      rate_limited_1d: Type.Integer(),
      latency_ms: Quantiles,
      ttft_ms: Quantiles,
      tokens_per_second: Nullable(Type.Number()),
      uptime: Type.Object({ m5: Nullable(Type.Number()), m30: Nullable(Type.Number()), d1: Nullable(Type.Number()) }),
    }),
  ),
  daily_tokens: Type.Array(Type.Object({ day: Type.String(), provider: Type.String(), tokens: Type.Integer() })),
  /** Per provider and hour over the last day: median time to first token and latency, uptime. */
  series: Type.Array(
    Type.Object({ t: Type.String(), provider: Type.String(), ttft_p50_ms: Nullable(Type.Number()), latency_p50_ms: Nullable(Type.Number()), uptime: Nullable(Type.Number()) }),
  ),
  /** Apps using it over the last week (only apps with at least APP_MIN_USERS distinct users). */
  apps: Type.Array(Type.Object({ app: Type.String(), users: Type.Integer(), requests: Type.Integer(), tokens: Type.Integer() })),
  auto: Type.Array(Type.Object({ category: Type.String(), requests: Type.Integer(), tokens: Type.Integer() }), {
    description: 'requests switchboard/auto sent to this model over the last 30 days (today included), per category',
  }),
  auto_away: Type.Array(Type.Object({ to: Type.String(), requests: Type.Integer() }), {
    description: 'requests switchboard/auto chose this model for that another served after a failover, over the same 30 days, by the model that served',
  }),
});

interface Row {
  endpoint_id: string;
  s5: string;
  f5: string;
  s30: string;
  f30: string;
  s1d: string;
  f1d: string;
  rl: string;
  a1d: string;
  dt: string;
  dms: number;
  lat: number[];
  ttft: number[];
}

const minute = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 19).replace('T', ' ');
const uptime = (s: string, f: string) => (Number(s) + Number(f) === 0 ? null : Number(s) / (Number(s) + Number(f)));
const quantiles = (q: number[], n: number) => (n === 0 || !q || q.some((x) => !Number.isFinite(x)) ? null : { p50: q[0], p90: q[1], p99: q[2] });

interface ModelStatsDeps {
  clickhouse: ClickHouseClient;
  catalog: Catalog;
  appMinUsers: number;
  refreshS: number;
  warmup?: Warmup;
}

/** The comparison for one catalog model. */
async function computeModelStats(deps: ModelStatsDeps, model: Model): Promise<Static<typeof ModelStatsSchema>> {
  const id = model.id;
  const now = Date.now();
  // Windows in whole minutes, the current one included: 5 minutes is this minute and the four before.
  const p = { model: id, m5: minute(now - 4 * 60_000), m30: minute(now - 29 * 60_000), d1: minute(now - 1439 * 60_000), d30: minute(now - 30 * 86_400_000) };
  const rows = await queryRows<Row>(
    deps.clickhouse,
    `SELECT endpoint_id,
            sumIf(successes, minute >= {m5:DateTime('UTC')}) AS s5, sumIf(failures, minute >= {m5:DateTime('UTC')}) AS f5,
            sumIf(successes, minute >= {m30:DateTime('UTC')}) AS s30, sumIf(failures, minute >= {m30:DateTime('UTC')}) AS f30,
            sum(successes) AS s1d, sum(failures) AS f1d, sum(rate_limited) AS rl, sum(attempts) AS a1d,
            sum(decode_tokens) AS dt, sum(decode_ms) AS dms,
            quantilesTDigestMerge(0.5, 0.9, 0.99)(latency) AS lat, quantilesTDigestMerge(0.5, 0.9, 0.99)(ttft) AS ttft
       FROM endpoint_minute WHERE model = {model:String} AND minute >= {d1:DateTime('UTC')}
      GROUP BY endpoint_id`,
    p,
  );
  const byEndpoint = new Map(rows.map((r) => [r.endpoint_id, r]));
  const daily = await queryRows<{ day: string; provider: string; tokens: string }>(
    deps.clickhouse,
    `SELECT toString(toDate(hour)) AS day, provider, sum(tokens_prompt + tokens_completion) AS tokens
       FROM usage_hourly WHERE model = {model:String} AND hour >= {d30:DateTime('UTC')} AND provider != ''
      GROUP BY day, provider ORDER BY day, provider`,
    p,
  );
  const series = await queryRows<{ t: string; provider: string; ttft: number; lat: number; s: string; f: string }>(
    deps.clickhouse,
    `SELECT toString(toStartOfHour(minute)) AS t, provider,
            quantilesTDigestMerge(0.5, 0.9, 0.99)(ttft)[1] AS ttft, quantilesTDigestMerge(0.5, 0.9, 0.99)(latency)[1] AS lat,
            sum(successes) AS s, sum(failures) AS f
       FROM endpoint_minute WHERE model = {model:String} AND minute >= {d1:DateTime('UTC')}
      GROUP BY t, provider ORDER BY t, provider`,
    p,
  );
  const byDay = { ...p, today: isoDay(now) };
  // What switchboard/auto sent here over the last 30 days (today included), and what it chose this model
  // for that another served after a failover.
  const auto = await queryRows<{ category: string; requests: string; tokens: string }>(
    deps.clickhouse,
    `SELECT category, sum(requests) AS requests, sum(tokens) AS tokens FROM auto_daily
      WHERE model = {model:String} AND day > toDate({today:String}) - 30 GROUP BY category ORDER BY requests DESC, category`,
    byDay,
  );
  const away = await queryRows<{ to: string; requests: string }>(
    deps.clickhouse,
    `SELECT model AS to, sum(requests) AS requests FROM auto_daily
      WHERE chosen = {model:String} AND model != {model:String} AND day > toDate({today:String}) - 30 GROUP BY to ORDER BY requests DESC, to`,
    byDay,
  );
  // Apps are named only once enough distinct accounts use them: the same k as the public leaderboard.
  // Over the last seven calendar days (today and the six before), from the daily per-model rollup.
  const apps = await queryRows<{ app: string; users: string; requests: string; tokens: string }>(
    deps.clickhouse,
    `SELECT app, uniqCombined64Merge(users_approx) AS users, sum(requests) AS requests, sum(tokens) AS tokens
       FROM app_model_daily
      WHERE model = {model:String} AND day > toDate({today:String}) - 7
      GROUP BY app HAVING users >= {k:UInt32}
      ORDER BY tokens DESC, app LIMIT 20`,
    { ...byDay, k: deps.appMinUsers },
  );
  const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    computed_at: new Date().toISOString(),
    model: model.id,
    name: model.name,
    author: model.author,
    endpoints: model.endpoints.map((e) => {
      const r = byEndpoint.get(e.id);
      const ok = Number(r?.s1d ?? 0);
      return {
        endpoint: e.id,
        provider: e.provider,
        provider_name: deps.catalog.providerName(e.provider),
        pricing: { prompt: e.pricePrompt, completion: e.priceCompletion },
        context_length: e.contextLength,
        requests_1d: Number(r?.a1d ?? 0),
        rate_limited_1d: Number(r?.rl ?? 0),
        latency_ms: r ? quantiles(r.lat, ok) : null,
        ttft_ms: r ? quantiles(r.ttft, ok) : null,
        tokens_per_second: r && r.dms > 0 ? (Number(r.dt) * 1000) / r.dms : null,
        uptime: { m5: r ? uptime(r.s5, r.f5) : null, m30: r ? uptime(r.s30, r.f30) : null, d1: r ? uptime(r.s1d, r.f1d) : null },
      };
    }),
    daily_tokens: daily.map((d) => ({ day: d.day, provider: d.provider, tokens: Number(d.tokens) })),
    series: series.map((x) => ({ t: x.t, provider: x.provider, ttft_p50_ms: finiteOrNull(x.ttft), latency_p50_ms: finiteOrNull(x.lat), uptime: uptime(x.s, x.f) })),
    apps: apps.map((a) => ({ app: a.app, users: Number(a.users), requests: Number(a.requests), tokens: Number(a.tokens) })),
    auto: auto.map((a) => ({ category: a.category, requests: Number(a.requests), tokens: Number(a.tokens) })),
    auto_away: away.map((a) => ({ to: a.to, requests: Number(a.requests) })),
  };
}

export function registerModelStatsRoute(app: FastifyInstance, deps: ModelStatsDeps): void {
  // Public and the same for every caller: computed at most every refreshS, served from memory in between.
  const cached = refreshing(deps.refreshS * 1000, (id: string) => computeModelStats(deps, deps.catalog.model(id)!), app.log, 'model stats');
  deps.warmup?.add((stopped) =>
    cached.warm(
      [...deps.catalog.models].map((m) => m.id),
      stopped,
    ),
  );
  app.get<{ Params: Static<typeof Params> }>(
    '/api/v1/models/:author/:slug/stats',
    {
      schema: {
        summary: "A model's provider endpoints side by side: price, latency, time to first token, throughput, uptime, daily tokens",
        tags: ['analytics'],
        params: Params,
        response: { 200: ModelStatsSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const id = `${request.params.author}/${request.params.slug}`;
      const model = deps.catalog.model(id);
      if (!model) throw notFound(`model ${id} is not in the catalog`, 'model_not_found');
      return cached(model.id);
    },
  );
  registerPerformanceRoute(app, deps);
}

const PerformanceQuery = Type.Object(
  {
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, default: 7, description: 'how many days back from now' })),
    bucket: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')], { description: 'default: hour up to 2 days, day beyond' })),
  },
  { additionalProperties: false },
);
const Percentiles = Nullable(Type.Object({ p50: Type.Number(), p75: Type.Number(), p90: Type.Number(), p99: Type.Number() }));

export const PerformanceSchema = Type.Object({
  computed_at: Type.String(),
  model: Type.String(),
  from: Type.String(),
  to: Type.String(),
  bucket: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
  points: Type.Array(
    Type.Object({
      t: Type.String(),
      provider: Type.String(),
      requests: Type.Integer(),
      uptime: Nullable(Type.Number({ description: 'percent' })),
      ttft_ms: Percentiles,
      latency_ms: Percentiles,
      tokens_per_second: Nullable(
        Type.Object({ p50: Type.Number(), p75: Type.Number(), p90: Type.Number(), p99: Type.Number() }, { description: 'streamed answers; p99 is the slowest percent' }),
      ),
    }),
  ),
});

/** Each provider's latency and throughput percentiles over days or weeks, per hour or day. */
function registerPerformanceRoute(app: FastifyInstance, deps: ModelStatsDeps): void {
  const cached = refreshing(
    deps.refreshS * 1000,
    async (q: { model: string; days: number; bucket: 'hour' | 'day' }): Promise<Static<typeof PerformanceSchema>> => {
      const now = Date.now();
      const from = Math.floor(now / HOUR_MS) * HOUR_MS - q.days * DAY_MS;
      return {
        computed_at: new Date(now).toISOString(),
        model: q.model,
        from: new Date(from).toISOString(),
        to: new Date(now).toISOString(),
        bucket: q.bucket,
        points: await performanceOverTime(deps.clickhouse, q.model, from, now + HOUR_MS, q.bucket),
      };
    },
    app.log,
    'model performance',
  );
  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof PerformanceQuery> }>(
    '/api/v1/models/:author/:slug/performance',
    {
      schema: {
        summary: "A model's providers over time: requests, uptime, and p50/p75/p90/p99 time to first token, latency and throughput",
        tags: ['analytics'],
        params: Params,
        querystring: PerformanceQuery,
        response: { 200: PerformanceSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const id = `${request.params.author}/${request.params.slug}`;
      const model = deps.catalog.model(id);
      if (!model) throw notFound(`model ${id} is not in the catalog`, 'model_not_found');
      const days = request.query.days ?? 7;
      return cached({ model: model.id, days, bucket: request.query.bucket ?? (days <= 2 ? 'hour' : 'day') });
    },
  );
}
