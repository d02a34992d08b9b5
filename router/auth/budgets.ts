// Budgets (governance/budgets.ts) as the router holds requests to them. Each request reserves its worst
// case on its key's entry for every current period (router/auth/spend.ts), so a budget sees the requests
// in flight of every key it covers, across the fleet, like the all-time limit.
import { ApiError } from '../../core/errors.ts';
import type { Budget } from '../../governance/budgets.ts';
import { BUDGET_PERIODS, budgetWindow, periodBucket } from '../../governance/policy.ts';
import type { SpendLedger } from './spend.ts';

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
      { metadata: { budget: b.name, policies: [b.name], limit_usd: b.limitUsd, used_usd: used, resets_at: resetsAt } },
    );
  }
}
