import { describe, expect, it } from 'vitest';
import { RefreshingCache } from '../../core/refreshing-cache.ts';

function setup(ttl = 1000) {
  let now = 10_000;
  let calls = 0;
  let fail = false;
  const errors: unknown[] = [];
  let release: (() => void) | undefined;
  let gate = false;
  const cache = new RefreshingCache<string>(
    ttl,
    async (key) => {
      const n = ++calls;
      if (gate) await new Promise<void>((r) => (release = r));
      if (fail) throw new Error('boom');
      return `${key}#${n}`;
    },
    (_key, err) => errors.push(err),
    () => now,
  );
  return {
    cache,
    errors,
    calls: () => calls,
    tick: (ms: number) => (now += ms),
    failNext: (v: boolean) => (fail = v),
    hold: (v: boolean) => (gate = v),
    release: () => release?.(),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('refreshing cache', () => {
  it('computes once, then serves the same value until it is ttl old', async () => {
    const t = setup();
    expect(await t.cache.get('a')).toEqual({ value: 'a#1', computedAt: 10_000 });
    t.tick(999);
    expect((await t.cache.get('a')).value).toBe('a#1');
    expect(t.calls()).toBe(1);
    expect((await t.cache.get('b')).value).toBe('b#2'); // keys are separate
  });

  it('a stale value is served at once while one refresh runs; the next caller gets the new one', async () => {
    const t = setup();
    await t.cache.get('a');
    t.tick(1000);
    t.hold(true);
    expect((await t.cache.get('a')).value).toBe('a#1');
    expect((await t.cache.get('a')).value).toBe('a#1'); // refresh in flight: not started twice
    expect(t.calls()).toBe(2);
    t.release();
    await settle();
    expect(await t.cache.get('a')).toEqual({ value: 'a#2', computedAt: 11_000 });
  });

  it('callers arriving during the first computation share it', async () => {
    const t = setup();
    t.hold(true);
    const both = Promise.all([t.cache.get('a'), t.cache.get('a')]);
    await settle();
    t.release();
    expect((await both).map((r) => r.value)).toEqual(['a#1', 'a#1']);
    expect(t.calls()).toBe(1);
  });

  it('a failed first computation reaches the caller and is not cached; a failed refresh keeps the stale value', async () => {
    const t = setup();
    t.failNext(true);
    await expect(t.cache.get('a')).rejects.toThrow('boom');
    t.failNext(false);
    expect((await t.cache.get('a')).value).toBe('a#2');
    t.tick(1000);
    t.failNext(true);
    expect((await t.cache.get('a')).value).toBe('a#2');
    await settle();
    expect(t.errors).toHaveLength(1);
    expect((await t.cache.get('a')).value).toBe('a#2'); // still served; a new refresh was started
  });
});
