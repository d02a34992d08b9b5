// One value per key, recomputed at most every `ttlMs`. For results that are costly to compute and change
// slowly (weekly preference over millions of rows): a caller gets the cached value at once; a stale one is
// still served while a single refresh runs in the background, as long as it is less than two ttls old
// (after an idle spell the first caller waits for the refresh rather than get figures many periods old);
// only the first caller for a key waits, and callers arriving meanwhile share that computation. A failed
// refresh keeps the stale value (reported).

interface Entry<V> {
  value?: V;
  computedAt: number;
  pending?: Promise<V>;
}

export class RefreshingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly compute: (key: string) => Promise<V>,
    private readonly onRefreshError: (key: string, err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value for `key` and when it was computed (ms since epoch). A ttl of 0 computes on every call. */
  async get(key: string): Promise<{ value: V; computedAt: number }> {
    if (this.ttlMs <= 0) {
      const computedAt = this.now();
      return { value: await this.compute(key), computedAt };
    }
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { computedAt: 0 }));
    if (e.value !== undefined) {
      const age = this.now() - e.computedAt;
      if (age >= this.ttlMs && !e.pending) {
        this.refresh(key, e).catch((err) => this.onRefreshError(key, err));
      }
      if (age < 2 * this.ttlMs || !e.pending) return { value: e.value, computedAt: e.computedAt };
      // Too old to pass for current: wait for the refresh; should it fail (reported above), the old value.
      const stale = e.value;
      const value = await e.pending.catch(() => stale);
      return { value, computedAt: e.computedAt };
    }
    const value = await (e.pending ?? this.refresh(key, e));
    return { value, computedAt: e.computedAt };
  }

  private refresh(key: string, e: Entry<V>): Promise<V> {
    const started = this.now();
    const p = this.compute(key).then(
      (value) => {
        e.value = value;
        e.computedAt = started;
        e.pending = undefined;
        return value;
      },
      (err: unknown) => {
        e.pending = undefined;
        throw err;
      },
    );
    e.pending = p;
    return p;
  }
}

export interface Refreshing<A, V> {
  (args: A): Promise<V>;
  /** Computes these keys now, one after another, so their first callers need not wait (nothing when nothing is cached). */
  warm(keys: readonly A[], stopped?: () => boolean): Promise<void>;
}

/**
 * `compute` memoized per argument (validated query parameters: a bounded set), refreshed as above; a failed
 * refresh is logged as a warning about `what`, with the arguments.
 */
export function refreshing<A, V>(ttlMs: number, compute: (args: A) => Promise<V>, log: { warn(obj: object, msg: string): void }, what: string): Refreshing<A, V> {
  const cache = new RefreshingCache<V>(
    ttlMs,
    (key) => compute(JSON.parse(key) as A),
    (key, err) => log.warn({ err, args: key }, `${what}: refresh failed, serving the previous result`),
  );
  const get = async (args: A) => (await cache.get(JSON.stringify(args))).value;
  return Object.assign(get, {
    async warm(keys: readonly A[], stopped = () => false) {
      if (ttlMs <= 0) return;
      for (const k of keys) {
        if (stopped()) return;
        await get(k).catch((err: unknown) => log.warn({ err, args: JSON.stringify(k) }, `${what}: computing ahead failed`));
      }
    },
  });
}

/**
 * The public figures worth computing before anyone asks (the default views), collected from the routes and
 * computed one key at a time in the background, so that a fresh process answers its first callers from
 * memory too, without flooding the engine at start.
 */
export class Warmup {
  private readonly jobs: ((stopped: () => boolean) => Promise<void>)[] = [];
  private stopped = false;

  add(job: (stopped: () => boolean) => Promise<void>): void {
    this.jobs.push(job);
  }

  /** Runs every job in turn; false when stopped before the end. */
  async run(): Promise<boolean> {
    for (const job of this.jobs) {
      if (this.stopped) return false;
      await job(() => this.stopped);
    }
    return !this.stopped;
  }

  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}
