// The latest revealed-preference table of each category, as analytics last published it; what
// `switchboard/auto` chooses from.
import type { PreferenceTable } from '../../telemetry/preference-table.ts';

export class PreferenceScores {
  private readonly tables = new Map<string, PreferenceTable>();

  /** Keeps the newest table per category (messages can arrive out of order after a reconnect). */
  update(t: PreferenceTable): void {
    const had = this.tables.get(t.category);
    if (!had || had.computed_at <= t.computed_at) this.tables.set(t.category, t);
  }

  /** The category's table, '' for all traffic. */
  of(category: string): PreferenceTable | undefined {
    return this.tables.get(category);
  }
}
