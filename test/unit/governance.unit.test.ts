// The pure parts of governance: the audit chain's tamper evidence, what a policy excludes, budget windows,
// and budgets held against the spend ledger (requests in flight included).
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog.ts';
import { ApiError } from '../../core/errors.ts';
import { sealEvent, verifyChains, type AuditEvent, type ChainHead } from '../../governance/audit-chain.ts';
import { budgetsOf } from '../../governance/budgets.ts';
import { keyRecord } from '../../governance/key-record.ts';
import { budgetWindow, defaultSort, periodBucket, policyExclusion } from '../../governance/policy.ts';
import { checkBudgets, periodEntries } from '../../router/auth/budgets.ts';
import { SpendLedger } from '../../router/auth/spend.ts';

function chain(org: string, n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    const prev = out.at(-1);
    out.push(
      sealEvent(prev && { seq: prev.seq, hash: prev.hash }, {
        org_id: org,
        at: 1_000 + i,
        actor: 'key_admin',
        kind: 'key.updated',
        target: `key_${i}`,
        before: '',
        after: `{"i":${i}}`,
      }),
    );
  }
  return out;
}
const headOf = (events: AuditEvent[]): [string, ChainHead] => [events[0].org_id, { seq: events.at(-1)!.seq, hash: events.at(-1)!.hash }];

describe('audit chain', () => {
  const a = chain('acme', 5);
  const b = chain('globex', 3);
  const heads = new Map([headOf(a), headOf(b)]);

  it('verifies intact chains, in any order', () => {
    expect(verifyChains([...b, ...a].reverse(), heads)).toEqual({ ok: true, organizations: 2, events: 8, problems: [] });
  });

  it('names an altered event', () => {
    const altered = a.map((e) => (e.seq === 3 ? { ...e, after: '{"i":300}' } : e));
    expect(verifyChains([...altered, ...b], heads).problems).toEqual(['acme: event 3 (key.updated key_2) was altered: its content no longer matches its hash']);
  });

  it('names an altered event even when its hash was recomputed: the next link breaks', () => {
    const forged = { ...a[2], after: '{"i":300}' };
    const rehashed = sealEvent({ seq: a[1].seq, hash: a[1].hash }, forged);
    const events = a.map((e) => (e.seq === 3 ? rehashed : e));
    expect(verifyChains([...events, ...b], heads).problems).toEqual(['acme: event 4 does not follow the event before it (its previous hash differs)']);
  });

  it('names a removed event in the middle', () => {
    const problems = verifyChains([...a.filter((e) => e.seq !== 2), ...b], heads).problems;
    expect(problems).toContain('acme: event 2 missing (next present is 3)');
    expect(problems).toContain('acme: event 3 does not follow the event before it (its previous hash differs)');
  });

  it('names events removed from the end, against the head kept apart', () => {
    expect(verifyChains([...a.slice(0, 3), ...b], heads).problems).toEqual([
      'acme: the log ends at event 3 but 5 events were recorded (events removed from its end, or its last altered)',
    ]);
    expect(verifyChains(a, heads).problems).toEqual(['globex: all 3 events are missing']);
  });
});

describe('policies', () => {
  const catalog = loadCatalog();
  const model = catalog.model('meta-llama/llama-3.3-70b-instruct')!;
  const [first, ...others] = model.endpoints;

  it('exclude by model, provider, data terms and price, naming the policy and its rule', () => {
    const key = { name: 'key bot', policy: { models: { allow: ['openai/gpt-4o-mini'] } } };
    expect(policyExclusion([key], first)).toEqual({ policy: 'key bot', reason: `the policy of key bot: model ${first.model} is not in models.allow` });
    const org = { name: 'organization acme', policy: { providers: { deny: [first.provider] } } };
    expect(policyExclusion([org], first)?.reason).toBe(`the policy of organization acme: provider ${first.provider} is in providers.deny`);
    expect(policyExclusion([org], others[0])).toBeUndefined();
    const cheap = { name: 'organization acme', policy: { max_price: { prompt: 0 } } };
    expect(model.endpoints.filter((e) => policyExclusion([cheap], e)).length).toBe(model.endpoints.filter((e) => e.pricePrompt > 0).length);
    const zdr = { name: 'organization acme', policy: { zdr: true } };
    for (const e of model.endpoints) expect(policyExclusion([zdr], e) !== undefined).toBe(e.dataPolicy.retainsPrompts);
    const noTraining = { name: 'organization acme', policy: { data_collection: 'deny' as const } };
    for (const e of model.endpoints) expect(policyExclusion([noTraining], e) !== undefined).toBe(e.dataPolicy.training);
  });

  it("take the key's routing preference before the organisation's", () => {
    expect(defaultSort([])).toBeUndefined();
    expect(
      defaultSort([
        { name: 'key k', policy: {} },
        { name: 'organization o', policy: { default_sort: 'price' } },
      ]),
    ).toBe('price');
    expect(
      defaultSort([
        { name: 'key k', policy: { default_sort: 'latency' } },
        { name: 'organization o', policy: { default_sort: 'price' } },
      ]),
    ).toBe('latency');
  });
});

describe('budgets', () => {
  it('count per UTC day, week from Monday and calendar month, and say when they reset', () => {
    const t = Date.UTC(2026, 11, 31, 23, 59); // Thursday 31 December 2026
    expect(budgetWindow('daily', t)).toEqual({ start: '2026-12-31', resetsAt: Date.UTC(2027, 0, 1) });
    expect(budgetWindow('weekly', t)).toEqual({ start: '2026-12-28', resetsAt: Date.UTC(2027, 0, 4) });
    expect(budgetWindow('monthly', t)).toEqual({ start: '2026-12-01', resetsAt: Date.UTC(2027, 0, 1) });
    expect(periodBucket('key_1', 'weekly', t)).toBe('key_1|weekly|2026-12-28');
  });

  it("hold a key to its own and its organisation's budgets, counting requests in flight and the organisation's other keys", () => {
    const now = Date.UTC(2026, 11, 3, 12);
    const ledger = new SpendLedger();
    const key = keyRecord({ id: 'key_a', name: 'a', account_id: 'acct', hash: 'a'.repeat(64), org_id: 'acme', policy: { budgets: { weekly: 10 } } });
    const budgets = budgetsOf(key, { budgets: { daily: 1 } }, () => ['key_a', 'key_b']);
    expect(budgets.map((b) => b.name)).toEqual(['weekly budget of key a', 'daily budget of organization acme']);
    checkBudgets(ledger, budgets, now);
    // Another key of the organisation holds 0.6 for a request in flight, then this one 0.5: the next is refused.
    const other = ledger.reserve('key_b', null, 0.6, periodEntries('key_b', now))!;
    const mine = ledger.reserve('key_a', null, 0.5, periodEntries('key_a', now))!;
    const refusal = (() => {
      try {
        checkBudgets(ledger, budgets, now);
      } catch (err) {
        return err as ApiError;
      }
    })();
    expect(refusal?.status).toBe(402);
    expect(refusal?.code).toBe('budget_exhausted');
    expect(refusal?.message).toMatch(/daily budget of organization acme \(\$1\) is spent.*resets at 2026-12-04T00:00:00.000Z/);
    // Released requests free the budget; settled ones keep what they cost.
    other.release();
    mine.settle(0.2);
    checkBudgets(ledger, budgets, now);
    expect(ledger.spent(periodBucket('key_a', 'daily', now))).toBeCloseTo(0.2);
    // The next day starts a new daily period.
    ledger.reserve('key_a', null, 0.9, periodEntries('key_a', now))!.settle(0.9);
    expect(() => checkBudgets(ledger, budgets, now)).toThrow(ApiError);
    checkBudgets(ledger, budgets, now + 86_400_000);
  });

  it("a key's limit with a reset period is a budget; without one it stays the all-time limit", () => {
    const base = { id: 'key_l', name: 'l', account_id: 'acct', hash: 'b'.repeat(64) };
    expect(budgetsOf(keyRecord({ ...base, spend_limit_usd: 5, limit_reset: 'monthly' }), undefined, () => []).map((b) => [b.name, b.limitUsd])).toEqual([
      ['monthly limit of key l', 5],
    ]);
    expect(budgetsOf(keyRecord({ ...base, spend_limit_usd: 5 }), undefined, () => [])).toEqual([]);
  });
});
