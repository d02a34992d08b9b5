// Organisation and key policies: which models and providers a request may reach, under which data terms
// and prices, within which budgets, and the routing preference a request gets when it states none. The
// router applies them to every request before it chooses an endpoint (router/routing/plan.ts); a policy
// is data here, so the management API, the key channel and the router share one definition.
import { Type, type Static } from '@sinclair/typebox';
import type { Endpoint } from '../catalog/catalog.ts';
import { DAY_MS, isoDay, mondayOf } from '../core/time.ts';

const Names = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 });
const AllowDeny = Type.Object(
  {
    allow: Type.Optional({ ...Names, description: 'only these (absent: all)' }),
    deny: Type.Optional({ ...Names, description: 'never these' }),
  },
  { additionalProperties: false },
);
const Usd = Type.Number({ exclusiveMinimum: 0, maximum: 1e9 });

export const BUDGET_PERIODS = ['daily', 'weekly', 'monthly'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

export const PolicySchema = Type.Object(
  {
    models: Type.Optional({ ...AllowDeny, description: 'model ids (author/slug)' }),
    providers: Type.Optional({ ...AllowDeny, description: 'provider slugs' }),
    data_collection: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')], { description: 'deny: only providers that do not train on prompts' })),
    zdr: Type.Optional(Type.Boolean({ description: 'true: only zero-retention endpoints' })),
    max_price: Type.Optional(
      Type.Object(
        { prompt: Type.Optional(Type.Number({ minimum: 0 })), completion: Type.Optional(Type.Number({ minimum: 0 })) },
        { additionalProperties: false, description: 'USD per million tokens, as provider.max_price' },
      ),
    ),
    budgets: Type.Optional(
      Type.Object(
        { daily: Type.Optional(Usd), weekly: Type.Optional(Usd), monthly: Type.Optional(Usd) },
        { additionalProperties: false, description: 'USD per UTC day, week (from Monday) and month' },
      ),
    ),
    default_sort: Type.Optional(
      Type.Union([Type.Literal('price'), Type.Literal('throughput'), Type.Literal('latency')], { description: 'provider.sort for requests that set none' }),
    ),
  },
  { additionalProperties: false },
);
export type Policy = Static<typeof PolicySchema>;

/** A policy in force for a request, with the name its refusals give (`organization acme`, `key ci-bot`). */
export interface NamedPolicy {
  name: string;
  policy: Policy;
}

/** Which policy keeps a request off this endpoint and why, naming its rule; undefined: allowed. */
export function policyExclusion(policies: readonly NamedPolicy[], e: Endpoint): { policy: string; reason: string } | undefined {
  for (const { name, policy: p } of policies) {
    const why = ruleExcluding(p, e);
    if (why) return { policy: name, reason: `the policy of ${name}: ${why}` };
  }
  return undefined;
}

function ruleExcluding(p: Policy, e: Endpoint): string | undefined {
  if (p.models?.allow && !p.models.allow.includes(e.model)) return `model ${e.model} is not in models.allow`;
  if (p.models?.deny?.includes(e.model)) return `model ${e.model} is in models.deny`;
  if (p.providers?.allow && !p.providers.allow.includes(e.provider)) return `provider ${e.provider} is not in providers.allow`;
  if (p.providers?.deny?.includes(e.provider)) return `provider ${e.provider} is in providers.deny`;
  if (p.data_collection === 'deny' && e.dataPolicy.training) return 'its provider may train on prompts (data_collection: deny)';
  if (p.zdr === true && e.dataPolicy.retainsPrompts) return 'its provider keeps prompts (zdr: true)';
  if (p.max_price?.prompt !== undefined && e.pricePrompt > p.max_price.prompt)
    return `prompt price ${e.pricePrompt} above max_price.prompt ${p.max_price.prompt} per million tokens`;
  if (p.max_price?.completion !== undefined && e.priceCompletion > p.max_price.completion)
    return `completion price ${e.priceCompletion} above max_price.completion ${p.max_price.completion} per million tokens`;
  return undefined;
}

/** The first routing preference the policies set (the key's before its organisation's). */
export const defaultSort = (policies: readonly NamedPolicy[]): Policy['default_sort'] => policies.find((p) => p.policy.default_sort)?.policy.default_sort;

/** The period of a budget holding `ms`: its start (the day, Monday or 1st, UTC) and when it resets. */
export function budgetWindow(period: BudgetPeriod, ms: number): { start: string; resetsAt: number } {
  if (period === 'daily') {
    const day = Math.floor(ms / DAY_MS) * DAY_MS;
    return { start: isoDay(day), resetsAt: day + DAY_MS };
  }
  if (period === 'weekly') {
    const monday = mondayOf(ms);
    return { start: isoDay(monday), resetsAt: monday + 7 * DAY_MS };
  }
  const d = new Date(ms);
  return { start: isoDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)), resetsAt: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

// Every request reserves on its key's entry for each current period: the periods' starts change only at
// midnight (UTC), so they are formatted once a day, not once per request and period.
let startsDay = Number.NaN;
let starts: Record<BudgetPeriod, string> = { daily: '', weekly: '', monthly: '' };
function periodStarts(ms: number): Record<BudgetPeriod, string> {
  const day = Math.floor(ms / DAY_MS);
  if (day !== startsDay) {
    startsDay = day;
    starts = { daily: budgetWindow('daily', ms).start, weekly: budgetWindow('weekly', ms).start, monthly: budgetWindow('monthly', ms).start };
  }
  return starts;
}

/** The spend ledger's entry for a key's spend within one budget period. */
export const periodBucket = (keyId: string, period: BudgetPeriod, ms: number): string => `${keyId}|${period}|${periodStarts(ms)[period]}`;
