// Open-loop load at a fixed rate: requests are sent on schedule whether or not earlier ones have
// answered, and latency is measured from the scheduled time, so a stall shows up instead of hiding.
import { Pool } from 'undici';

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  latenciesMs: Float64Array;
  /** The same latencies in the order the requests were scheduled (request i was due at i / rps s). */
  bySchedule: Float64Array;
  achievedRps: number;
}

export interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Connections to `target` kept across load phases, as a real client's keep-alive pool would be: a fresh
 * pool per phase measured its own ramp (1–2 s of queueing at the router) more than the steady rate. */
export const keepAlivePool = (target: Target, connections = 128) => new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });

export async function openLoop(target: Target, rps: number, seconds: number, pool: Pool): Promise<LoadResult> {
  const total = Math.round(rps * seconds);
  const lat = new Float64Array(total);
  let done = 0;
  let ok = 0;
  let errors = 0;
  const start = performance.now();
  const intervalMs = 1000 / rps;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const fire = (i: number, scheduled: number) => {
      pool
        .request({ path: target.path, method: 'POST', headers: target.headers, body: target.body })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode === 200) ok++;
          else errors++;
        })
        .catch(() => errors++)
        .finally(() => {
          lat[i] = performance.now() - scheduled;
          if (++done === total) resolve();
        });
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) {
        fire(sent, start + sent * intervalMs);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  return { sent: total, ok, errors, latenciesMs: lat.slice().sort(), bySchedule: lat, achievedRps: total / elapsed };
}

/** Several phases' results as one (latencies merged and sorted; by schedule, the phases back to back). */
export function mergeResults(results: readonly LoadResult[]): LoadResult {
  const bySchedule = new Float64Array(results.reduce((n, r) => n + r.bySchedule.length, 0));
  let at = 0;
  for (const r of results) {
    bySchedule.set(r.bySchedule, at);
    at += r.bySchedule.length;
  }
  const sum = (f: (r: LoadResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    sent: sum((r) => r.sent),
    ok: sum((r) => r.ok),
    errors: sum((r) => r.errors),
    latenciesMs: bySchedule.slice().sort(),
    bySchedule,
    achievedRps: sum((r) => r.achievedRps) / results.length,
  };
}

/** Closed loop: `concurrency` workers send back to back for `seconds`; returns requests per second. */
export async function saturate(target: Target, concurrency: number, seconds: number): Promise<{ rps: number; errors: number }> {
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          const res = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body: target.body });
          await res.body.dump();
          if (res.statusCode === 200) n++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  await pool.close();
  return { rps: n / seconds, errors };
}
