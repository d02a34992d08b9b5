import { describe, expect, it } from 'vitest';
import { RefreshingCache, refreshing, Warmup } from '../../core/refreshing-cache.ts';

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

  it('after an idle spell (two ttls or more) the caller waits for the refresh instead of getting the old value', async () => {
    const t = setup();
    await t.cache.get('a');
    t.tick(1999);
    expect((await t.cache.get('a')).value).toBe('a#1'); // under two ttls: stale served, refresh started
    await settle();
    t.tick(2000);
    expect(await t.cache.get('a')).toEqual({ value: 'a#3', computedAt: 13_999 });
    // A refresh that fails then still answers, with the last value, and is reported once.
    t.tick(5000);
    t.failNext(true);
    expect((await t.cache.get('a')).value).toBe('a#3');
    await settle();
    expect(t.errors).toHaveLength(1);
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

describe('computing ahead', () => {
  const log = () => {
    const warnings: string[] = [];
    return { warnings, warn: (_: object, msg: string) => void warnings.push(msg) };
  };

  it('computes each key once, in order, so later calls are served from memory; a failing key is logged and the rest go on', async () => {
    const l = log();
    const computed: number[] = [];
    const get = refreshing(
      60_000,
      async (n: number) => {
        computed.push(n);
        if (n === 2) throw new Error('boom');
        return n * 10;
      },
      l,
      'squares',
    );
    const warmup = new Warmup();
    warmup.add((stopped) => get.warm([1, 2, 3], stopped));
    expect(await warmup.run()).toBe(true);
    expect(computed).toEqual([1, 2, 3]);
    expect(l.warnings).toEqual(['squares: computing ahead failed']);
    expect(await get(3)).toBe(30);
    expect(computed).toEqual([1, 2, 3]);
  });

  it('stops between keys once stopped, and computes nothing ahead when nothing is cached (ttl 0)', async () => {
    const computed: number[] = [];
    const warmup = new Warmup();
    const get = refreshing(
      60_000,
      async (n: number) => {
        computed.push(n);
        if (n === 1) warmup.stop();
        return n;
      },
      log(),
      'numbers',
    );
    const uncached = refreshing(0, async (n: number) => (computed.push(100 + n), n), log(), 'uncached');
    warmup.add((stopped) => uncached.warm([1, 2], stopped));
    warmup.add((stopped) => get.warm([1, 2, 3], stopped));
    expect(await warmup.run()).toBe(false);
    expect(computed).toEqual([1]);
  });
});
