import { describe, expect, it } from 'vitest';
import { SpendLedger } from '../../router/auth/spend.ts';

describe('spend ledger', () => {
  it('admits while spent plus held is under the limit, so the overshoot is at most the last hold', () => {
    const l = new SpendLedger();
    const holds = [];
    for (let i = 0; i < 100; i++) {
      const h = l.reserve('k', 1, 0.3);
      if (h) holds.push(h);
    }
    expect(holds).toHaveLength(4); // 0, 0.3, 0.6, 0.9 are under 1; 1.2 is not
    for (const h of holds) h.settle(0.3);
    expect(l.spent('k')).toBeCloseTo(1.2);
    expect(l.spent('k') - 1).toBeLessThanOrEqual(0.3);
    expect(l.reserve('k', 1, 0.01)).toBeUndefined();
  });

  it('a hold settles or releases once; a release gives the whole reservation back', () => {
    const l = new SpendLedger();
    const h = l.reserve('k', null, 5)!;
    expect(l.own('k')).toEqual({ settled: 0, reserved: 5 });
    h.settle(2);
    h.release();
    h.settle(3);
    expect(l.own('k')).toEqual({ settled: 2, reserved: 0 });
    l.reserve('k', null, 1)!.release();
    expect(l.own('k')).toEqual({ settled: 2, reserved: 0 });
  });

  it("counts the fleet's figures against the limit, and reports changed keys once", () => {
    const l = new SpendLedger();
    l.useFleet((k) => (k === 'k' ? 0.95 : 0));
    expect(l.reserve('k', 1, 0.1)).toBeDefined();
    expect(l.reserve('k', 1, 0.1)).toBeUndefined();
    expect(l.takeChanged()).toEqual(['k']);
    expect(l.takeChanged()).toEqual([]);
  });
});
