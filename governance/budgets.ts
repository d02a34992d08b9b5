// Budgets per UTC day, week and month: a key's limit with a reset period (OpenRouter's limit_reset), and
// the budgets of its key's and its organisation's policies. The router holds requests to them
// (router/auth/budgets.ts); the usage API shows them with what each has spent.
import type { KeyRecord } from './key-record.ts';
import { BUDGET_PERIODS, type BudgetPeriod, type Policy } from './policy.ts';

export interface Budget {
  /** How refusals name it: `daily budget of organization acme`. */
  name: string;
  /** Whose it is: the key's own (its limit or its policy's), or its organisation's. */
  scope: 'key' | 'organization';
  period: BudgetPeriod;
  limitUsd: number;
  /** The keys whose spend it counts. */
  keyIds: () => readonly string[];
}

function fromPolicy(policy: Policy | null | undefined, scope: Budget['scope'], owner: string, keyIds: () => readonly string[]): Budget[] {
  const b = policy?.budgets;
  if (!b) return [];
  return BUDGET_PERIODS.flatMap((period) => (b[period] === undefined ? [] : [{ name: `${period} budget of ${owner}`, scope, period, limitUsd: b[period], keyIds }]));
}

/** Every budget a request of this key is held to. */
export function budgetsOf(key: KeyRecord, orgPolicy: Policy | undefined, orgKeyIds: () => readonly string[]): Budget[] {
  const own = () => [key.id];
  const limit: Budget[] =
    key.limit_reset !== null && key.spend_limit_usd !== null
      ? [{ name: `${key.limit_reset} limit of key ${key.name}`, scope: 'key', period: key.limit_reset, limitUsd: key.spend_limit_usd, keyIds: own }]
      : [];
  return [...limit, ...fromPolicy(key.policy, 'key', `key ${key.name}`, own), ...fromPolicy(orgPolicy, 'organization', `organization ${key.org_id}`, orgKeyIds)];
}
