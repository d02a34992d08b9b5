// Spend per key, for spend limits (402). Seeded at start from what ClickHouse holds, then kept current from
// this router's own requests. In cluster mode each router counts its own share on top of the seed.

export class SpendLedger {
  private readonly spent = new Map<string, number>();

  seed(totals: Iterable<[string, number]>): void {
    for (const [k, v] of totals) this.spent.set(k, v);
  }

  add(keyId: string, usd: number): void {
    if (usd > 0) this.spent.set(keyId, (this.spent.get(keyId) ?? 0) + usd);
  }

  get(keyId: string): number {
    return this.spent.get(keyId) ?? 0;
  }
}
