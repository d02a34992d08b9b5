// Public leaderboards from the daily and hourly aggregates: top models by tokens in the period with share, rank,
// change of rank and growth against the previous period, an "other" row, and market share by author.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { CATEGORIES } from '../../router/classify.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { queryRows } from '../../store/clickhouse.ts';
import { refreshing, type Warmup } from '../../core/refreshing-cache.ts';
import { DAY_MS, HOUR_MS } from '../../core/time.ts';

export const PERIOD_HOURS = { day: 24, week: 24 * 7, month: 24 * 30 } as const;
/** The longest list a caller may ask for; every shorter one is cut from it. */
const MAX_LIMIT = 100;

const Query = Type.Object(
  {
    period: Type.Optional(
      Type.Union(
        Object.keys(PERIOD_HOURS).map((p) => Type.Literal(p)),
        { default: 'week' },
      ),
    ),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 20 })),
  },
  { additionalProperties: false },
);

export const RankingsSchema = Type.Object({
  computed_at: Type.String({ description: 'when this result was computed: public figures are recomputed at most every PUBLIC_REFRESH_S' }),
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
      multi_call_share: Nullable(
        Type.Number({ description: "share of the model's tokens (whole days of the period) spent in agent sessions of two or more calls; null without tokens on those days" }),
      ),
    }),
  ),
  other: Type.Object({ models: Type.Integer(), tokens: Type.Integer(), share: Type.Number() }),
  auto: Type.Array(Type.Object({ model: Type.String(), requests: Type.Integer(), tokens: Type.Integer(), share: Type.Number() }), {
    description: 'where switchboard/auto sent requests on the days the period touches: per served model, its share of auto requests',
  }),
  authors: Type.Array(Type.Object({ author: Type.String(), tokens: Type.Integer(), share: Type.Number() })),
  series: Type.Object(
    {
      bucket: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
      points: Type.Array(Type.Object({ t: Type.String(), model: Type.String(), tokens: Type.Integer() })),
    },
    { description: 'tokens per bucket for the listed models, the rest as "other" (for a stacked chart)' },
  ),
  apps: Type.Array(Type.Object({ app: Type.String(), users: Type.Integer(), requests: Type.Integer(), tokens: Type.Integer() }), {
    description: 'apps used by at least APP_MIN_USERS distinct accounts in the period; users are counted exactly up to thousands, within about 0.3% beyond',
  }),
  trending: Type.Array(Type.Object({ model: Type.String(), tokens: Type.Integer(), previous_tokens: Type.Integer(), growth: Type.Number() }), {
    description: 'fastest growth against the previous period, among models with at least 0.1% of tokens in both',
  }),
});

/** The period as the complete hours before the current one: [from, to), and the period before it. */
export function periodWindow(period: keyof typeof PERIOD_HOURS, now = Date.now()): { from: Date; to: Date; prevFrom: Date } {
  const to = new Date(Math.floor(now / HOUR_MS) * HOUR_MS);
  const span = PERIOD_HOURS[period] * HOUR_MS;
  return { from: new Date(to.getTime() - span), to, prevFrom: new Date(to.getTime() - 2 * span) };
}

const ch = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

/**
 * Usage rows over [from, to): whole UTC days from the daily table, the hours at either edge from the hourly
 * one (a month of hours is 720 × every endpoint × category; of days, 30 × every model × category). `t` is a
 * row's hour, a day row's midnight. Parameters: from, to, dfrom, dto prefixed with `p` (see `window`).
 */
const usageOver = (p: string) => `(
  SELECT toDateTime(day, 'UTC') AS t, model, author, category, tokens_prompt + tokens_completion AS tokens, requests
    FROM usage_daily_model WHERE day >= toDate({${p}dfrom:DateTime('UTC')}) AND day < toDate({${p}dto:DateTime('UTC')})
  UNION ALL
  SELECT hour AS t, model, author, category, tokens_prompt + tokens_completion AS tokens, requests
    FROM usage_hourly
   WHERE (hour >= {${p}from:DateTime('UTC')} AND hour < {${p}dfrom:DateTime('UTC')}) OR (hour >= {${p}dto:DateTime('UTC')} AND hour < {${p}to:DateTime('UTC')}))`;

/** Apps' rows over [from, to), split like usageOver: whole days from the daily table, edge hours from the hourly one. */
const APPS_OVER = `(
  SELECT app, category, users_approx, requests, tokens
    FROM app_daily WHERE day >= toDate({dfrom:DateTime('UTC')}) AND day < toDate({dto:DateTime('UTC')})
  UNION ALL
  SELECT app, category, users_approx, requests, tokens
    FROM app_hourly
   WHERE (hour >= {from:DateTime('UTC')} AND hour < {dfrom:DateTime('UTC')}) OR (hour >= {dto:DateTime('UTC')} AND hour < {to:DateTime('UTC')}))`;

/** The parameters of usageOver and APPS_OVER; without whole days (hourly buckets wanted), every hour comes from the hourly table. */
function window(from: Date, to: Date, wholeDays: boolean, p = ''): Record<string, string> {
  let dfrom = Math.ceil(from.getTime() / DAY_MS) * DAY_MS;
  let dto = Math.floor(to.getTime() / DAY_MS) * DAY_MS;
  if (!wholeDays || dfrom >= dto) dfrom = dto = to.getTime();
  return { [`${p}from`]: ch(from), [`${p}to`]: ch(to), [`${p}dfrom`]: ch(new Date(dfrom)), [`${p}dto`]: ch(new Date(dto)) };
}

interface RankingsDeps {
  clickhouse: ClickHouseClient;
  appMinUsers: number;
  refreshS: number;
  warmup?: Warmup;
  clock?: () => number;
}

type Rankings = Static<typeof RankingsSchema>;

interface UsageRow {
  t: string;
  cur: number;
  model: string;
  author: string;
  category: string;
  tokens: string;
  requests: string;
}

interface AppRow {
  app: string;
  /** '' for the overall grouping. */
  cat: string;
  users: string;
  requests: string;
  tokens: string;
}

/** One read of a period: every model's tokens per bucket and category over both periods, and the current period's apps. */
async function readPeriod(deps: RankingsDeps, period: keyof typeof PERIOD_HOURS, w: ReturnType<typeof periodWindow>) {
  // The day's chart is by hour: whole days would lump its hours together.
  const wholeDays = period !== 'day';
  const bucket = wholeDays ? 'toStartOfDay(t)' : 't';
  // The days the period touches, for the daily rollups that have no hours.
  const days = { from: ch(w.from), last: ch(new Date(w.to.getTime() - 1000)) };
  const [usage, apps, sessions, auto] = await Promise.all([
    queryRows<UsageRow>(
      deps.clickhouse,
      `SELECT formatDateTime(${bucket}, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS t, cur, model, any(author) AS author, category, sum(tokens) AS tokens, sum(requests) AS requests
         FROM (SELECT 1 AS cur, * FROM ${usageOver('c')} UNION ALL SELECT 0 AS cur, * FROM ${usageOver('p')}) WHERE model != ''
        GROUP BY t, cur, model, category HAVING tokens > 0`,
      { ...window(w.from, w.to, wholeDays, 'c'), ...window(w.prevFrom, w.from, wholeDays, 'p') },
    ),
    // Distinct users do not add up across categories: the overall list is its own grouping (category '').
    queryRows<AppRow>(
      deps.clickhouse,
      `SELECT app, if(grouping(category) = 1, '', category) AS cat, uniqCombined64Merge(users_approx) AS users, sum(requests) AS requests, sum(tokens) AS tokens
         FROM ${APPS_OVER}
        GROUP BY GROUPING SETS ((app), (app, category)) HAVING users >= {k:UInt32}`,
      { ...window(w.from, w.to, wholeDays), k: deps.appMinUsers },
    ),
    // Per model and category, tokens in sessions of two calls or more (a session's calls counted across
    // its models), over the days the period touches.
    queryRows<{ model: string; category: string; tokens: string; multi: string }>(
      deps.clickhouse,
      `SELECT model, category, sum(t) AS tokens, sumIf(t, session_id != '' AND calls >= 2) AS multi
         FROM (SELECT model, category, account_id, session_id, sum(tokens) AS t,
                      sum(sum(requests)) OVER (PARTITION BY account_id, session_id) AS calls
                 FROM session_usage WHERE day >= toDate({from:DateTime('UTC')}) AND day <= toDate({last:DateTime('UTC')})
                GROUP BY model, category, account_id, session_id)
        GROUP BY model, category`,
      days,
    ),
    queryRows<{ category: string; model: string; requests: string; tokens: string }>(
      deps.clickhouse,
      `SELECT category, model, sum(requests) AS requests, sum(tokens) AS tokens FROM auto_daily
        WHERE day >= toDate({from:DateTime('UTC')}) AND day <= toDate({last:DateTime('UTC')}) GROUP BY category, model`,
      days,
    ),
  ]);
  return { usage, apps, sessions, auto, bucket: (wholeDays ? 'day' : 'hour') as 'day' | 'hour' };
}

/** The leaderboard of one category (null: all) at the longest length, from the period's one read. */
function rankingsOf(
  read: Awaited<ReturnType<typeof readPeriod>>,
  w: ReturnType<typeof periodWindow>,
  period: keyof typeof PERIOD_HOURS,
  category: string | null,
  computedAt: string,
): { full: Rankings; ranked: number } {
  const limit = MAX_LIMIT;
  const rows = read.usage.filter((r) => category === null || r.category === category);
  const sums = (current: boolean) => {
    const m = new Map<string, { model: string; author: string; tokens: number; requests: number }>();
    for (const r of rows) {
      if ((Number(r.cur) === 1) !== current) continue;
      const had = m.get(r.model) ?? { model: r.model, author: r.author, tokens: 0, requests: 0 };
      had.tokens += Number(r.tokens);
      had.requests += Number(r.requests);
      m.set(r.model, had);
    }
    return [...m.values()].sort((a, b) => b.tokens - a.tokens || byBytes(a.model, b.model));
  };
  const [current, previous] = [sums(true), sums(false)];
  const total = current.reduce((n, r) => n + r.tokens, 0);
  const share = (t: number) => (total > 0 ? t / total : 0);
  const prev = new Map(previous.map((r, i) => [r.model, { rank: i + 1, tokens: r.tokens }]));
  const inSessions = perModel(read.sessions, category, ['tokens', 'multi']);
  const models = current.slice(0, limit).map((r, i) => {
    const p = prev.get(r.model);
    const sess = inSessions.get(r.model);
    return {
      rank: i + 1,
      model: r.model,
      author: r.author,
      tokens: r.tokens,
      requests: r.requests,
      share: share(r.tokens),
      previous_rank: p?.rank ?? null,
      rank_change: p ? p.rank - (i + 1) : null,
      growth: p && p.tokens > 0 ? (r.tokens - p.tokens) / p.tokens : null,
      multi_call_share: sess && sess.tokens > 0 ? sess.multi / sess.tokens : null,
    };
  });
  const rest = current.slice(limit);
  const restTokens = rest.reduce((n, r) => n + r.tokens, 0);
  const authors = new Map<string, number>();
  for (const r of current) authors.set(r.author, (authors.get(r.author) ?? 0) + r.tokens);
  const listed = new Set(models.map((m) => m.model));
  const points = new Map<string, { t: string; model: string; tokens: number }>();
  for (const r of rows) {
    if (Number(r.cur) !== 1) continue;
    const model = listed.has(r.model) ? r.model : 'other';
    const key = `${r.t} ${model}`;
    const had = points.get(key) ?? { t: r.t, model, tokens: 0 };
    had.tokens += Number(r.tokens);
    points.set(key, had);
  }
  const prevTotal = previous.reduce((n, r) => n + r.tokens, 0);
  const trending = current
    .map((r) => ({ model: r.model, tokens: r.tokens, previous_tokens: prev.get(r.model)?.tokens ?? 0 }))
    .filter((r) => r.previous_tokens > 0 && r.tokens >= total * 0.001 && r.previous_tokens >= prevTotal * 0.001)
    .map((r) => ({ ...r, growth: (r.tokens - r.previous_tokens) / r.previous_tokens }))
    .filter((r) => r.growth > 0)
    .sort((a, b) => b.growth - a.growth || a.model.localeCompare(b.model))
    .slice(0, 10);
  const apps = read.apps
    .filter((a) => a.cat === (category ?? ''))
    .map((a) => ({ app: a.app, users: Number(a.users), requests: Number(a.requests), tokens: Number(a.tokens) }))
    .sort((a, b) => b.tokens - a.tokens || byBytes(a.app, b.app))
    .slice(0, limit);
  const autoBy = perModel(read.auto, category, ['requests', 'tokens']);
  const autoRequests = [...autoBy.values()].reduce((n, a) => n + a.requests, 0);
  const full: Rankings = {
    computed_at: computedAt,
    auto: [...autoBy].map(([model, a]) => ({ model, ...a, share: a.requests / autoRequests })).sort((a, b) => b.requests - a.requests || byBytes(a.model, b.model)),
    series: { bucket: read.bucket, points: [...points.values()].sort((a, b) => byBytes(a.t, b.t) || byBytes(a.model, b.model)) },
    apps,
    trending,
    period,
    category,
    from: w.from.toISOString(),
    to: w.to.toISOString(),
    total_tokens: total,
    models,
    other: { models: rest.length, tokens: restTokens, share: share(restTokens) },
    authors: [...authors].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([author, tokens]) => ({ author, tokens, share: share(tokens) })),
  };
  return { full, ranked: current.length };
}

/** Every category's leaderboard and the overall one for a period, from one read: they sum exactly. */
async function computeRankings(deps: RankingsDeps, period: keyof typeof PERIOD_HOURS, now: number): Promise<Map<string | null, { full: Rankings; ranked: number }>> {
  const w = periodWindow(period, now);
  const read = await readPeriod(deps, period, w);
  const computedAt = new Date(now).toISOString();
  return new Map([null, ...CATEGORIES].map((c) => [c, rankingsOf(read, w, period, c, computedAt)]));
}

/** Rows of one category (null: every one) summed per model, over the measures named. */
function perModel<K extends string>(
  rows: readonly ({ model: string; category: string } & Record<K, string>)[],
  category: string | null,
  measures: readonly K[],
): Map<string, Record<K, number>> {
  const out = new Map<string, Record<K, number>>();
  for (const r of rows) {
    if (category !== null && r.category !== category) continue;
    const had = out.get(r.model) ?? (Object.fromEntries(measures.map((m) => [m, 0])) as Record<K, number>);
    for (const m of measures) had[m] += Number(r[m]);
    out.set(r.model, had);
  }
  return out;
}

/** Order by UTF-8 bytes, as ClickHouse sorts strings. */
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The leaderboard cut to `limit` models and apps: models past it join "other", in the totals and the series. */
export function cutRankings({ full, ranked }: { full: Rankings; ranked: number }, limit: number): Rankings {
  const models = full.models.slice(0, limit);
  const listed = new Set(models.map((m) => m.model));
  const otherTokens = full.total_tokens - models.reduce((n, m) => n + m.tokens, 0);
  const points = new Map<string, { t: string; model: string; tokens: number }>();
  for (const p of full.series.points) {
    const model = listed.has(p.model) ? p.model : 'other';
    const key = `${p.t} ${model}`;
    const had = points.get(key);
    if (had) had.tokens += p.tokens;
    else points.set(key, { t: p.t, model, tokens: p.tokens });
  }
  return {
    ...full,
    models,
    other: { models: ranked - models.length, tokens: otherTokens, share: full.total_tokens > 0 ? otherTokens / full.total_tokens : 0 },
    series: { bucket: full.series.bucket, points: [...points.values()].sort((a, b) => byBytes(a.t, b.t) || byBytes(a.model, b.model)) },
    apps: full.apps.slice(0, limit),
  };
}

export function registerRankingsRoutes(app: FastifyInstance, deps: RankingsDeps): void {
  // Public and the same for every caller: computed at most every refreshS, served from memory in between.
  // One computation per period serves all its categories.
  const cached = refreshing(deps.refreshS * 1000, (q: { period: keyof typeof PERIOD_HOURS }) => computeRankings(deps, q.period, (deps.clock ?? Date.now)()), app.log, 'rankings');
  deps.warmup?.add((stopped) =>
    cached.warm(
      (['week', 'day', 'month'] as const).map((period) => ({ period })),
      stopped,
    ),
  );
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
      return cutRankings((await cached({ period })).get(request.query.category ?? null)!, request.query.limit ?? 20);
    },
  );
}
