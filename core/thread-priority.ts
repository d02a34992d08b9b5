// The embedded service runs its request path (this process's main thread) beside work that can wait:
// chDB's query, insert and merge threads, the ingest worker, libuv's pool. When they coincide, Linux
// shares the cores evenly among the runnable threads and requests queue behind an insert or a merge
// (bench/router-overhead: stalls of 50–120 ms every second or two at 2,000 req/s on two cores). A higher
// nice value on every other thread lets the main thread run first; the others still get every idle cycle.
// Linux only (the threads are read from /proc/self/task); raising one's own nice value needs no privilege.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Give every thread of this process but the main one the nice value `nice`; returns how many changed.
 * A thread that raised its own priority (chDB's MemoryWorker goes to -20 where allowed, to keep its memory
 * accounting current) keeps it.
 */
export function deprioritizeOtherThreads(nice: number, mainToo = false): number {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let changed = 0;
  for (const task of tasks) {
    const tid = Number(task);
    if (tid === process.pid && !mainToo) continue;
    try {
      const current = getPriority(tid);
      if (current >= 0 && current < nice) {
        setPriority(tid, nice);
        changed++;
      }
    } catch {
      // The thread ended between the listing and here.
    }
  }
  return changed;
}

/**
 * Keep doing so as threads come and go (chDB grows its pools on demand; a thread started by one already
 * lowered inherits its value, others are caught within `everyMs`). Returns the function that stops it.
 */
export function keepMainThreadFirst(nice: number, everyMs = 1000): () => void {
  if (nice === 0 || process.platform !== 'linux') return () => undefined;
  deprioritizeOtherThreads(nice);
  const timer = setInterval(() => deprioritizeOtherThreads(nice), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A process that only does work that can wait (the supervisor's data process): every thread of it, the
 * main one included, at `nice`, so routers on the same cores run first.
 */
export function keepProcessInBackground(nice: number, everyMs = 1000): void {
  if (nice === 0 || process.platform !== 'linux') return;
  deprioritizeOtherThreads(nice, true);
  setInterval(() => deprioritizeOtherThreads(nice, true), everyMs).unref();
}
