// The caller's own usage and key, in OpenRouter's shapes where it has them (…/key and its older alias
// …/auth/key, …/credits, …/activity) and ours beside them (…/usage by day, model, provider or key, with
// the budgets in force and what each has spent). Every figure is scoped by the authenticated key: its
// account, or for a management key its organisation's keys; no parameter can widen it.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Catalog } from '../../catalog/catalog.ts';
import { badRequest } from '../../core/errors.ts';
import { chargedUsd, toNanoUsd } from '../../core/money.ts';
import type { KeyRecord, KeyStore } from '../../router/auth/key-store.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { underEveryBase } from '../../http/paths.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { activity, spent, spentByKeys, spentIn, USAGE_GROUPS, usageBy, type UsageGroup, type UsageScope, type UsageSums } from '../../store/account-queries.ts';
import { budgetsOf } from '../../governance/budgets.ts';
import { BUDGET_PERIODS, budgetWindow } from '../../governance/policy.ts';

const DateText = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' });

const Query = Type.Object(
  {
    from: Type.Optional(DateText),
    to: Type.Optional(DateText),
    group_by: Type.Optional(
      Type.Union(
        Object.keys(USAGE_GROUPS).map((g) => Type.Literal(g)),
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

const BudgetSchema = Type.Object({
  name: Type.String({ description: 'e.g. daily budget of organization acme' }),
  period: Type.Union(BUDGET_PERIODS.map((p) => Type.Literal(p))),
  limit_usd: Type.Number(),
  spent_usd: Type.Number({ description: 'charged in the current period (requests recorded so far)' }),
  resets_at: Type.String(),
});

export const UsageSchema = Type.Object({
  scope: Type.Union([Type.Literal('account'), Type.Literal('organization')], { description: "organization: a management key's view of every key of its organisation" }),
  from: Type.String(),
  to: Type.String(),
  group_by: Type.String(),
  budgets: Type.Array(BudgetSchema),
  data: Type.Array(Type.Object({ group: Type.String(), ...Figures })),
  totals: Type.Object(Figures),
});

const figures = (r: UsageSums) => ({
  requests: Number(r.requests),
  errors: Number(r.errors),
  tokens_prompt: Number(r.tokens_prompt),
  tokens_completion: Number(r.tokens_completion),
  cost_usd: Number(r.cost_nusd) / 1e9,
  platform_fee_usd: Number(r.fee_nusd) / 1e9,
});

const KeySchema = Type.Object({
  data: Type.Object({
    label: Type.String(),
    usage: Type.Number({ description: 'USD charged to this key, all time (provider cost and platform fee)' }),
    usage_daily: Type.Number({ description: 'today (UTC)' }),
    usage_weekly: Type.Number({ description: 'since Monday (UTC)' }),
    usage_monthly: Type.Number({ description: 'since the 1st (UTC)' }),
    limit: Nullable(Type.Number({ description: 'USD; null: no limit' })),
    limit_remaining: Nullable(Type.Number()),
    limit_reset: Nullable(
      Type.Union(
        BUDGET_PERIODS.map((p) => Type.Literal(p)),
        { description: 'the period the limit counts over (UTC); null: all time' },
      ),
    ),
    is_free_tier: Type.Boolean(),
    is_provisioning_key: Type.Boolean(),
    rate_limit: Type.Object({ requests: Type.Integer(), interval: Type.String() }),
    // Switchboard's.
    id: Type.String(),
    name: Type.String(),
    account_id: Type.String(),
  }),
});

const CreditsSchema = Type.Object({
  data: Type.Object({
    total_credits: Nullable(
      Type.Number({ description: "the sum of the account's key spend limits in USD; null when a key has none (no credits are sold: usage is billed as it happens)" }),
    ),
    total_usage: Type.Number({ description: 'USD charged to the account, all time' }),
  }),
});

const ActivitySchema = Type.Object({
  data: Type.Array(
    Type.Object({
      date: Type.String(),
      model: Type.String(),
      model_permaslug: Type.String(),
      endpoint_id: Type.String(),
      provider_name: Type.String(),
      usage: Type.Number({ description: 'USD charged (provider cost and fee)' }),
      byok_usage_inference: Type.Number(),
      prompt_tokens: Type.Integer(),
      completion_tokens: Type.Integer(),
      reasoning_tokens: Type.Integer(),
      provider: Type.String(),
      ...Figures,
    }),
  ),
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

export interface UsageRouteDeps {
  keys: KeyStore;
  clickhouse: ClickHouseClient;
  catalog: Catalog;
  /** Requests per minute of a key that sets none. */
  defaultRateLimitPerMinute: number;
}

const OWNER = { tags: ['analytics'], security: [{ bearer: [] }] };

/** A management key sees its organisation's keys; any other key its own account. */
function scopeOf(keys: KeyStore, key: KeyRecord): UsageScope {
  return key.management ? { keys: keys.keysOf(key.org_id).map((k) => k.id) } : { account: key.account_id };
}

/** The budgets the caller's key (or, for a management key, its organisation) is held to, with what each has spent this period. */
async function budgetViews(ch: ClickHouseClient, keys: KeyStore, key: KeyRecord, now: number) {
  const orgKeys = () => keys.keysOf(key.org_id).map((k) => k.id);
  const all = budgetsOf(key, keys.orgPolicy(key.org_id), orgKeys);
  const budgets = key.management ? all.filter((b) => b.scope === 'organization') : all;
  if (budgets.length === 0) return [];
  const spent = await spentByKeys(ch, [...new Set(budgets.flatMap((b) => b.keyIds()))]);
  return budgets.map((b) => ({
    name: b.name,
    period: b.period,
    limit_usd: b.limitUsd,
    spent_usd: toNanoUsd(b.keyIds().reduce((sum, k) => sum + spentIn(spent.get(k)!, b.period), 0)),
    resets_at: new Date(budgetWindow(b.period, now).resetsAt).toISOString(),
  }));
}

export function registerUsageRoutes(app: FastifyInstance, deps: UsageRouteDeps): void {
  const onRequest = requireKey(deps.keys);
  const ch = deps.clickhouse;

  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/v1/usage',
    {
      onRequest,
      schema: {
        ...OWNER,
        summary: "The caller's usage and spend, by day, model, provider or key (owner only)",
        querystring: Query,
        response: { 200: UsageSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const { from, to } = dateRange(request.query);
      const groupBy = (request.query.group_by ?? 'day') as UsageGroup;
      const key = keyOf(request);
      const { rows, totals } = await usageBy(ch, scopeOf(deps.keys, key), from, to, groupBy);
      return {
        scope: key.management ? ('organization' as const) : ('account' as const),
        from,
        to,
        group_by: groupBy,
        budgets: await budgetViews(ch, deps.keys, key, Date.now()),
        data: rows.map((r) => ({ group: r.group, ...figures(r) })),
        totals: figures(totals),
      };
    },
  );

  for (const url of underEveryBase('/activity')) {
    app.get(
      url,
      { onRequest, schema: { ...OWNER, summary: "The caller's last 30 days by day, model and provider (owner only)", response: { 200: ActivitySchema, ...errorResponses(401) } } },
      async (request) => {
        const rows = await activity(ch, scopeOf(deps.keys, keyOf(request)));
        return {
          data: rows.map((r) => {
            const f = figures(r);
            return {
              date: r.date,
              model: r.model,
              model_permaslug: r.model,
              endpoint_id: r.provider ? `${r.provider}:${r.model}` : '',
              provider_name: deps.catalog.providerName(r.provider),
              usage: chargedUsd(f.cost_usd, f.platform_fee_usd),
              byok_usage_inference: 0,
              prompt_tokens: f.tokens_prompt,
              completion_tokens: f.tokens_completion,
              reasoning_tokens: 0,
              provider: r.provider,
              ...f,
            };
          }),
        };
      },
    );
  }

  for (const url of [...underEveryBase('/key'), ...underEveryBase('/auth/key')]) {
    app.get(
      url,
      { onRequest, schema: { ...OWNER, summary: 'The calling key: its limits and what it has spent', response: { 200: KeySchema, ...errorResponses(401) } } },
      async (request) => {
        const key = keyOf(request);
        const s = await spent(ch, key.account_id, key.id);
        const limit = key.spend_limit_usd;
        const used = spentIn(s, key.limit_reset);
        return {
          data: {
            label: key.name,
            usage: s.total,
            usage_daily: s.day,
            usage_weekly: s.week,
            usage_monthly: s.month,
            limit,
            limit_remaining: limit === null ? null : Math.max(0, toNanoUsd(limit - used)),
            limit_reset: key.limit_reset,
            is_free_tier: false,
            is_provisioning_key: key.management,
            rate_limit: { requests: key.rate_limit_per_minute ?? deps.defaultRateLimitPerMinute, interval: '1m' },
            id: key.id,
            name: key.name,
            account_id: key.account_id,
          },
        };
      },
    );
  }

  for (const url of underEveryBase('/credits')) {
    app.get(
      url,
      { onRequest, schema: { ...OWNER, summary: "The account's spend limits and what it has spent", response: { 200: CreditsSchema, ...errorResponses(401) } } },
      async (request) => {
        const key = keyOf(request);
        const s = await spent(ch, key.account_id);
        const limits = deps.keys
          .list()
          .filter((k) => k.account_id === key.account_id && k.revoked_at === null)
          .map((k) => k.spend_limit_usd);
        const total = limits.includes(null) ? null : limits.reduce<number>((sum, l) => sum + (l ?? 0), 0);
        return { data: { total_credits: total, total_usage: s.total } };
      },
    );
  }
}
