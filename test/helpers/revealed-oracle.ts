// The revealed-preference logic of analytics/preference/revealed.ts written plainly over weekly usage rows,
// as the independent computation the tests hold the SQL to. Each account's main model per week (most
// tokens; ties to the first name), retention of each model's users 1, 2 and 4 weeks later, the
// week-to-week flows between main models, and pairwise outcomes: an account whose main was A and that moved
// to B and stayed there says B beats A; one that tried B beside A and kept A says A beats B.
import { accountCluster } from '../../analytics/preference/revealed.ts';
import type { WeeklyUse } from '../../dev/population/simulate.ts';
import { isoDay, mondayOf as monday } from '../../core/time.ts';

export type { WeeklyUse };

export interface Outcome {
  winner: string;
  loser: string;
  account: string;
  cluster: number;
}

interface Week {
  main: string;
  used: Set<string>;
}

/** account → weeks in order, each with its main model and every model used. */
export function weeklyMains(rows: readonly WeeklyUse[]): Map<string, Map<string, Week>> {
  const acc = new Map<string, Map<string, { best: number; main: string; used: Set<string> }>>();
  for (const r of rows) {
    let weeks = acc.get(r.account);
    if (!weeks) acc.set(r.account, (weeks = new Map()));
    let w = weeks.get(r.week);
    if (!w) weeks.set(r.week, (w = { best: -1, main: r.model, used: new Set() }));
    w.used.add(r.model);
    if (r.tokens > w.best || (r.tokens === w.best && r.model < w.main)) {
      w.best = r.tokens;
      w.main = r.model;
    }
  }
  const out = new Map<string, Map<string, Week>>();
  for (const [account, weeks] of acc) {
    out.set(account, new Map([...weeks].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { main: v.main, used: v.used }])));
  }
  return out;
}

/** The Monday (UTC, YYYY-MM-DD) of the week holding `ts`. */
export const mondayOf = (ts: number): string => isoDay(monday(ts));

export const addWeeks = (week: string, n: number) => new Date(Date.parse(week) + n * 7 * 86_400_000).toISOString().slice(0, 10);

export interface Retention {
  model: string;
  cohort_users: number;
  retention: { w1: number | null; w2: number | null; w4: number | null };
}

/** Of the accounts using a model in a week, the share still using it k weeks later (weeks with k weeks of future only). */
export function retention(mains: Map<string, Map<string, Week>>, lastWeek: string): Retention[] {
  const stats = new Map<string, { users: number; kept: Record<number, [number, number]> }>();
  for (const weeks of mains.values()) {
    for (const [week, w] of weeks) {
      for (const model of w.used) {
        let s = stats.get(model);
        if (!s) stats.set(model, (s = { users: 0, kept: { 1: [0, 0], 2: [0, 0], 4: [0, 0] } }));
        s.users++;
        for (const k of [1, 2, 4]) {
          const later = addWeeks(week, k);
          if (later > lastWeek) continue;
          s.kept[k][1]++;
          if (weeks.get(later)?.used.has(model)) s.kept[k][0]++;
        }
      }
    }
  }
  const rate = ([kept, of]: [number, number]) => (of === 0 ? null : kept / of);
  return [...stats]
    .map(([model, s]) => ({ model, cohort_users: s.users, retention: { w1: rate(s.kept[1]), w2: rate(s.kept[2]), w4: rate(s.kept[4]) } }))
    .sort((a, b) => b.cohort_users - a.cohort_users || a.model.localeCompare(b.model));
}

export function flows(mains: Map<string, Map<string, Week>>): { from: string; to: string; accounts: number }[] {
  const counts = new Map<string, number>();
  for (const weeks of mains.values()) {
    for (const [week, w] of weeks) {
      const next = weeks.get(addWeeks(week, 1));
      if (!next) continue;
      const key = `${w.main}\u0000${next.main}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([k, accounts]) => {
      const [from, to] = k.split('\u0000');
      return { from, to, accounts };
    })
    .sort((a, b) => b.accounts - a.accounts || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

export function outcomes(mains: Map<string, Map<string, Week>>): Outcome[] {
  const out: Outcome[] = [];
  for (const [account, weeks] of mains) {
    const cluster = accountCluster(account);
    for (const [week, w] of weeks) {
      const next = weeks.get(addWeeks(week, 1));
      if (!next) continue;
      const after = weeks.get(addWeeks(week, 2));
      if (next.main !== w.main) {
        // Moved its traffic; it counts once it stayed (or when there is no later week to tell).
        if (!after || after.main === next.main) out.push({ winner: next.main, loser: w.main, account, cluster });
      } else {
        for (const tried of w.used) if (tried !== w.main) out.push({ winner: w.main, loser: tried, account, cluster });
      }
    }
  }
  return out;
}

/** Outcome counts per ordered pair and cluster, with their distinct accounts (the SQL's grouping). */
export function clusteredPairs(list: readonly Outcome[]): { winner: string; loser: string; cluster: number; count: number; accounts: number }[] {
  const groups = new Map<string, { winner: string; loser: string; cluster: number; count: number; seen: Set<string> }>();
  for (const o of list) {
    const key = `${o.winner}\u0000${o.loser}\u0000${o.cluster}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { winner: o.winner, loser: o.loser, cluster: o.cluster, count: 0, seen: new Set() }));
    g.count++;
    g.seen.add(o.account);
  }
  return [...groups.values()].map(({ seen, ...g }) => ({ ...g, accounts: seen.size }));
}

/** Per model, the distinct accounts behind its outcomes. */
export function outcomeAccounts(list: readonly Outcome[]): Map<string, number> {
  const seen = new Map<string, Set<string>>();
  for (const o of list) for (const m of [o.winner, o.loser]) seen.set(m, (seen.get(m) ?? new Set()).add(o.account));
  return new Map([...seen].map(([m, s]) => [m, s.size]));
}
