// Spend per key, for spend limits (402). A request reserves its worst-case cost before it is forwarded,
// settles to what it really cost when it ends, and releases the rest on failure, so concurrent requests
// see each other before any of them finishes. A key is admitted while what it has spent and reserved is
// under its limit: a limit is overshot by at most the worst case of the one request admitted last, per
// router. What other routers of the fleet spent and hold comes from the spend channel (`fleet`); in the
// embedded service the ledger is seeded from ClickHouse at start instead.

/** What other routers report for a key, in USD (settled plus still reserved). */
export type FleetSpend = (keyId: string) => number;

export interface SpendFigures {
  settled: number;
  reserved: number;
}

/** One request's reservation, on its key and the key's budget periods: settled once or released once; anything after the first is ignored. */
export class SpendHold {
  private open = true;

  constructor(
    private readonly ledger: SpendLedger,
    readonly entries: readonly string[],
    readonly usd: number,
  ) {}

  settle(usd: number): void {
    if (!this.open) return;
    this.open = false;
    this.ledger.finishHold(this, usd);
  }

  release(): void {
    this.settle(0);
  }
}

export class SpendLedger {
  private readonly figures = new Map<string, SpendFigures>();
  private fleet: FleetSpend = () => 0;
  /** Keys whose figures changed since the last `takeChanged()` (for the spend channel). */
  private readonly changed = new Set<string>();

  seed(totals: Iterable<[string, number]>): void {
    for (const [k, v] of totals) this.figuresOf(k).settled = v;
  }

  /** Other routers' figures, from the spend channel. */
  useFleet(fleet: FleetSpend): void {
    this.fleet = fleet;
  }

  /** USD spent and held by this key across the fleet, as this router knows it now. */
  used(keyId: string): number {
    const f = this.figures.get(keyId);
    return (f ? f.settled + f.reserved : 0) + this.fleet(keyId);
  }

  /** Spent and settled (without reservations), across the fleet as far as this router knows. */
  spent(keyId: string): number {
    return (this.figures.get(keyId)?.settled ?? 0) + this.fleet(keyId);
  }

  /**
   * Hold `usd` for a request of this key (and on its entries for the current budget periods); undefined
   * when the key is at its limit. A null limit always admits (the hold still counts, so a limit set later
   * sees the spend).
   */
  reserve(keyId: string, limitUsd: number | null, usd: number, periods: readonly string[] = []): SpendHold | undefined {
    if (limitUsd !== null && this.used(keyId) >= limitUsd) return undefined;
    const entries = [keyId, ...periods];
    for (const e of entries) {
      this.figuresOf(e).reserved += usd;
      this.changed.add(e);
    }
    return new SpendHold(this, entries, usd);
  }

  /** Called by a hold: its reservation goes, its real cost stays. */
  finishHold(hold: SpendHold, usd: number): void {
    for (const e of hold.entries) {
      const f = this.figuresOf(e);
      f.reserved = Math.max(0, f.reserved - hold.usd);
      if (usd > 0) f.settled += usd;
      this.changed.add(e);
    }
  }

  /** This router's own figures for a key. */
  own(keyId: string): SpendFigures {
    const f = this.figures.get(keyId);
    return { settled: f?.settled ?? 0, reserved: f?.reserved ?? 0 };
  }

  /** Keys whose own figures changed since the last call. */
  takeChanged(): string[] {
    const keys = [...this.changed];
    this.changed.clear();
    return keys;
  }

  /** Keys to hand out again (their figures could not be published). */
  markChanged(keys: readonly string[]): void {
    for (const k of keys) this.changed.add(k);
  }

  private figuresOf(keyId: string): SpendFigures {
    let f = this.figures.get(keyId);
    if (!f) {
      f = { settled: 0, reserved: 0 };
      this.figures.set(keyId, f);
    }
    return f;
  }
}
