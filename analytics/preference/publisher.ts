// Every refresh period, each category's Bradley–Terry scores over the last month of weekly behaviour (and
// those of all traffic), handed to the routers for `switchboard/auto`. One category at a time, so the
// engine is never flooded; a failed computation keeps the routers' previous table.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../core/logger.ts';
import { CATEGORIES } from '../../router/classify.ts';
import { PREFERENCE_TABLE_VERSION, type PreferenceTable } from '../../telemetry/preference-table.ts';
import { scores } from './bradley-terry.ts';
import { type PreferencePeriod, periodStart, revealedPreference } from './revealed.ts';

/** The period the routing scores read: recent enough to follow the market, long enough to separate models. */
const PERIOD: PreferencePeriod = 'month';

async function preferenceTable(clickhouse: ClickHouseClient, category: string, now: number): Promise<PreferenceTable> {
  const revealed = await revealedPreference(clickhouse, periodStart(PERIOD, now), now + 1, category === '' ? null : category);
  return {
    v: PREFERENCE_TABLE_VERSION,
    kind: 'preference',
    category,
    period: PERIOD,
    computed_at: now,
    scores: scores(revealed.pairs).scores.map((s) => ({ model: s.item, score: s.score, low: s.low, high: s.high, comparisons: s.comparisons })),
  };
}

export class PreferencePublisher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly refreshMs: number,
    private readonly publish: (tables: PreferenceTable[]) => Promise<void>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.refreshMs);
      });
    };
    tick();
  }

  /** Computes and publishes every category's table (each as soon as it is ready). */
  async runOnce(): Promise<void> {
    for (const category of ['', ...CATEGORIES]) {
      if (this.stopped) return;
      try {
        await this.publish([await preferenceTable(this.clickhouse, category, this.now())]);
      } catch (err) {
        this.log.warn({ err, category }, 'preference table not computed; routers keep the previous one');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
