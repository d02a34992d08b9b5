// Calendar arithmetic in UTC, the way ClickHouse's toMonday/toDate count (weeks start on Monday).

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/** Midnight (UTC) of the Monday of the week holding `ms`. */
export function mondayOf(ms: number): number {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
}

/** YYYY-MM-DD of the UTC day holding `ms`. */
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
