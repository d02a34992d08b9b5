// The routers' shared spend, whatever carries it (the compacted Kafka topic in cluster mode, the
// supervisor's hub otherwise). Each router process (a random id per start) publishes its own figures per
// key — cumulative settled USD and USD reserved by requests in flight — keyed `router|key`, so the carrier
// keeps the latest of each. A key's spend is the sum over every router that ever served it (a restarted
// router is a new id and its predecessor's figures stay counted). Reservations of a router that went
// silent stop counting after the longest a request can run.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

export const SpendReportSchema = Type.Object(
  {
    v: Type.Literal(1),
    router: Type.String({ minLength: 1, maxLength: 64 }),
    key_id: Type.String({ minLength: 1, maxLength: 128 }),
    settled_usd: Type.Number({ minimum: 0 }),
    reserved_usd: Type.Number({ minimum: 0 }),
    at: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type SpendReport = Static<typeof SpendReportSchema>;
const check = TypeCompiler.Compile(SpendReportSchema);

/** What a carrier needs of a router's ledger (router/auth/spend.ts). */
export interface SpendSource {
  useFleet(fleet: (keyId: string) => number): void;
  own(keyId: string): { settled: number; reserved: number };
  takeChanged(): string[];
  markChanged(keys: readonly string[]): void;
}

export class SpendFleet {
  readonly routerId = `r-${randomBytes(6).toString('hex')}`;
  /** key → router → its latest report. */
  private readonly fleet = new Map<string, Map<string, SpendReport>>();
  rejected = 0;

  constructor(
    private readonly ledger: SpendSource,
    /** Reservations older than this are a silent router's: no longer counted. */
    private readonly reservationTtlMs: number,
  ) {
    ledger.useFleet((key) => this.spendOf(key));
  }

  spendOf(key: string, now = Date.now()): number {
    const byRouter = this.fleet.get(key);
    if (!byRouter) return 0;
    let usd = 0;
    for (const r of byRouter.values()) usd += r.settled_usd + (now - r.at < this.reservationTtlMs ? r.reserved_usd : 0);
    return usd;
  }

  /** Another router's report, as the carrier delivered it (checked here: a bad one is counted, not used). */
  take(text: string | null): void {
    if (text === null) return;
    let report: unknown;
    try {
      report = JSON.parse(text);
    } catch {
      report = undefined;
    }
    if (!check.Check(report)) {
      this.rejected++;
      return;
    }
    if (report.router === this.routerId) return;
    let byRouter = this.fleet.get(report.key_id);
    if (!byRouter) this.fleet.set(report.key_id, (byRouter = new Map()));
    byRouter.set(report.router, report);
  }

  /** This router's changed figures as `[router|key, report]`, with the keys they cover (to hand back on failure). */
  changedReports(): { keys: string[]; messages: [string, string][] } {
    const keys = this.ledger.takeChanged();
    const at = Date.now();
    const messages = keys.map((key): [string, string] => {
      const own = this.ledger.own(key);
      const report: SpendReport = { v: 1, router: this.routerId, key_id: key, settled_usd: own.settled, reserved_usd: own.reserved, at };
      return [`${this.routerId}|${key}`, JSON.stringify(report)];
    });
    return { keys, messages };
  }

  /** Figures that could not be sent: handed out again with the next change (they are cumulative). */
  unsent(keys: readonly string[]): void {
    this.ledger.markChanged(keys);
  }
}

/** Settled totals as one report of a pseudo-router (the data process's count of what ClickHouse holds). */
export function baseReports(router: string, totals: Iterable<[string, number]>, at = Date.now()): [string, string][] {
  return [...totals].map(([key, usd]): [string, string] => {
    const report: SpendReport = { v: 1, router, key_id: key, settled_usd: usd, reserved_usd: 0, at };
    return [`${router}|${key}`, JSON.stringify(report)];
  });
}
