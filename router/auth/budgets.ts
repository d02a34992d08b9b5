// Budgets per UTC day, week and month: a key's limit with a reset period (OpenRouter's limit_reset), and
// the budgets of its key and organisation policies. Each request reserves its worst case on its key's entry
// for every current period (router/auth/spend.ts), so a budget sees the requests in flight of every key it
// covers, across the fleet, like the all-time limit.
import { ApiError } from '../../core/errors.ts';
import type { KeyRecord } from '../../governance/key-record.ts';
import { BUDGET_PERIODS, budgetWindow, periodBucket, type BudgetPeriod, type Policy } from '../../governance/policy.ts';
import type { SpendLedger } from './spend.ts';

export interface Budget {
  /** How refusals name it: `daily budget of organization acme`. */
  name: string;
  period: BudgetPeriod;
  limitUsd: number;
  /** The keys whose spend it counts. */
  keyIds: () => readonly string[];
}

const ADJECTIVE: Record<BudgetPeriod, string> = { daily: 'daily', weekly: 'weekly', monthly: 'monthly' };

function fromPolicy(policy: Policy | null | undefined, owner: string, keyIds: () => readonly string[]): Budget[] {
  const b = policy?.budgets;
  if (!b) return [];
  return BUDGET_PERIODS.flatMap((period) => (b[period] === undefined ? [] : [{ name: `${ADJECTIVE[period]} budget of ${owner}`, period, limitUsd: b[period], keyIds }]));
}

/** Every budget a request of this key is held to. */
export function budgetsOf(key: KeyRecord, orgPolicy: Policy | undefined, orgKeyIds: () => readonly string[]): Budget[] {
  const own = () => [key.id];
  const limit: Budget[] =
    key.limit_reset !== null && key.spend_limit_usd !== null
      ? [{ name: `${ADJECTIVE[key.limit_reset]} limit of key ${key.name}`, period: key.limit_reset, limitUsd: key.spend_limit_usd, keyIds: own }]
      : [];
  return [...limit, ...fromPolicy(key.policy, `key ${key.name}`, own), ...fromPolicy(orgPolicy, `organization ${key.org_id}`, orgKeyIds)];
}

/** The ledger entries a request of this key reserves on besides the key's own: one per budget period now. */
export const periodEntries = (keyId: string, now: number): string[] => BUDGET_PERIODS.map((p) => periodBucket(keyId, p, now));

/** Refuses with 402 when a budget is spent (with what is held for requests in flight). */
export function checkBudgets(spend: SpendLedger, budgets: readonly Budget[], now: number): void {
  for (const b of budgets) {
    const used = b.keyIds().reduce((sum, k) => sum + spend.used(periodBucket(k, b.period, now)), 0);
    if (used < b.limitUsd) continue;
    const resetsAt = new Date(budgetWindow(b.period, now).resetsAt).toISOString();
    throw new ApiError(
      402,
      'insufficient_quota',
      'budget_exhausted',
      `the ${b.name} ($${b.limitUsd}) is spent: $${used.toFixed(6)} spent or held for requests in flight; it resets at ${resetsAt}`,
      { metadata: { budget: b.name, limit_usd: b.limitUsd, used_usd: used, resets_at: resetsAt } },
    );
  }
}
