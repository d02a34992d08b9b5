// `npm start` keeps the request path first: every thread of the data process (its main thread, chDB's
// pools, the ingest worker, libuv's) runs at BACKGROUND_NICE, including threads started after boot, while
// the routers' threads keep nice 0; BACKGROUND_NICE=0 leaves them all. A thread that raised its own
// priority keeps it (chDB's MemoryWorker takes -20 where it may).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, startServiceProcess, stopProcess, type Child } from '../helpers/process.ts';
import { DEV_KEY, auth, chatBody, eventually } from '../helpers/service.ts';

const linux = process.platform === 'linux';
if (!linux) console.warn(`thread priority suite skipped: threads are read from /proc, which ${process.platform} lacks`);

/** Name and nice value of every thread of `pid` (fields 2 and 19 of /proc/PID/task/TID/stat). */
function threads(pid: number): { tid: number; name: string; nice: number }[] {
  const out: { tid: number; name: string; nice: number }[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ tid: Number(task), name, nice: Number(fields[16]) });
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}

let child: Child | undefined;
afterEach(async () => {
  if (child) await stopProcess(child);
  child = undefined;
});

const start = (nice: string) =>
  startServiceProcess(undefined, {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'switchboard-nice-')),
    SWITCHBOARD_DEV_KEY: DEV_KEY,
    SIMULATOR_LATENCY_SCALE: '0',
    DEMO: 'off',
    BACKGROUND_NICE: nice,
    ROUTER_WORKERS: '2',
  });

const processOf = (role: string) => childrenOf(child!.proc.pid!).find((c) => c.role === role)!.pid;

describe.skipIf(!linux)('background thread priority', () => {
  it("lowers every thread of the data process, chDB's and node's alike, with traffic running, and none of the routers'", async () => {
    child = await start('7');
    const pid = processOf('data');
    // Traffic makes chDB insert and the pools grow after boot; the sweep must catch those threads too.
    for (let i = 0; i < 20; i++) await fetch(`${child.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('mistralai/mistral-nemo')) });
    const lowered = (t: { nice: number }) => t.nice === 7 || t.nice < 0;
    const seen = await eventually(
      async () => threads(pid),
      (ts) => ts.every(lowered),
      10_000,
    );
    expect(seen.find((t) => t.tid === pid)!.nice).toBe(7);
    expect(seen.length).toBeGreaterThan(5);
    // chDB names its threads (ThreadPool, MergeMutate, …); node's are "node": both kinds were lowered.
    expect(seen.some((t) => t.tid !== pid && t.name !== 'node' && t.nice === 7)).toBe(true);
    expect(seen.some((t) => t.tid !== pid && t.name === 'node' && t.nice === 7)).toBe(true);
    const routers = childrenOf(child.proc.pid!).filter((c) => c.role === 'router');
    expect(routers).toHaveLength(2);
    for (const r of routers) expect(threads(r.pid).filter((t) => t.nice !== 0)).toEqual([]);
  }, 60_000);

  it('BACKGROUND_NICE=0 lowers no thread', async () => {
    child = await start('0');
    await new Promise((r) => setTimeout(r, 1500)); // past one sweep, had there been one
    // (chDB raises its own MemoryWorker to -20 where it may; that is not ours to keep or undo.)
    expect(threads(processOf('data')).filter((t) => t.nice > 0)).toEqual([]);
  }, 60_000);
});
