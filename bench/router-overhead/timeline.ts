// bench/router-overhead/timeline.ts: where a router's latency tail comes from. Drives one embedded router
// alone at a fixed rate and reads, every 100 ms, how long each of its threads ran and how long its serving
// (main) thread waited for a core (Linux: /proc/<pid>/task/*/schedstat). Prints the run's latency, CPU per
// request of the serving thread and of the others by name, and each 100-ms window whose slowest request
// passed --slow-ms with what every thread did in it: a window where the serving thread ran nearly all the
// time is our own work; one where it waited is the machine's other threads (chDB's, the load's).
// A diagnosis, not a benchmark: no goal and no baseline; run.ts is the benchmark.
// Usage: npx tsx bench/router-overhead/timeline.ts [--rps 2000] [--seconds 15] [--slow-ms 10]
// Environment: BENCH_ROUTER_ENV (JSON of extra router environment), BENCH_ROUTER_NODE_ARGS (node flags).
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keepAlivePool, openLoop, quantile } from './load.ts';
import { routedTarget, startRouter, startUpstream } from './processes.ts';

const { values } = parseArgs({ options: { rps: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '15' }, 'slow-ms': { type: 'string', default: '10' } } });
const RPS = Number(values.rps);
const SECONDS = Number(values.seconds);
const SLOW_MS = Number(values['slow-ms']);
const WINDOW_MS = 100;

interface Sample {
  mainRun: number;
  mainWait: number;
  /** Run time (ns) of the other threads, summed by thread name (trailing digits dropped). */
  others: Map<string, number>;
}

function sample(pid: number): Sample {
  const s: Sample = { mainRun: 0, mainWait: 0, others: new Map() };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let run: number;
    let wait: number;
    let name: string;
    try {
      [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+$/, '');
    } catch {
      continue; // the thread ended meanwhile
    }
    if (Number(tid) === pid) {
      s.mainRun = run;
      s.mainWait = wait;
    } else s.others.set(name, (s.others.get(name) ?? 0) + run);
  }
  return s;
}

const ms = (ns: number) => ns / 1e6;
const othersBetween = (a: Sample, b: Sample) => [...b.others].map(([n, v]) => [n, ms(v - (a.others.get(n) ?? 0))] as const).sort((x, y) => y[1] - x[1]);

if (process.platform !== 'linux') throw new Error('timeline.ts reads /proc: Linux only');
const upstream = await startUpstream();
const router = await startRouter(
  upstream.url,
  process.env.BENCH_ROUTER_ENV ? JSON.parse(process.env.BENCH_ROUTER_ENV) : {},
  process.env.BENCH_ROUTER_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
);
const pid = router.pid;
const target = routedTarget(router.url);
const pool = keepAlivePool(target);
try {
  await openLoop(target, RPS, 4, pool); // warm-up: JIT, pools, chDB's first inserts
  const samples: Sample[] = [sample(pid)];
  const timer = setInterval(() => samples.push(sample(pid)), WINDOW_MS);
  const r = await openLoop(target, RPS, SECONDS, pool);
  clearInterval(timer);
  const first = samples[0];
  const last = samples[samples.length - 1];
  const n = r.latenciesMs.length;
  const perRequestUs = (nsTotal: number) => (nsTotal / 1e3 / n).toFixed(0);
  console.log(`timeline  ${new Date().toISOString()}  ${RPS} req/s for ${SECONDS} s, one embedded router, telemetry on`);
  console.log(
    `latency p50 ${quantile(r.latenciesMs, 0.5).toFixed(2)} ms, p90 ${quantile(r.latenciesMs, 0.9).toFixed(2)} ms, p99 ${quantile(r.latenciesMs, 0.99).toFixed(2)} ms, errors ${r.errors}`,
  );
  console.log(`serving thread: ${perRequestUs(last.mainRun - first.mainRun)} µs of CPU per request, waited for a core ${ms(last.mainWait - first.mainWait).toFixed(0)} ms in all`);
  console.log(
    `other threads, µs of CPU per request: ${othersBetween(first, last)
      .filter(([, v]) => v >= 1)
      .map(([name, v]) => `${name} ${((v * 1e3) / n).toFixed(1)}`)
      .join(', ')}`,
  );
  // Window w holds the requests scheduled in it; samples[w] and samples[w + 1] bound it (the sampler's
  // timer drifts a little against the schedule: the figures are for reading, not for summing).
  const perWindow = (RPS * WINDOW_MS) / 1000;
  let slowWindows = 0;
  for (let w = 0; w + 1 < samples.length && (w + 1) * perWindow <= r.bySchedule.length; w++) {
    const slowest = Math.max(...r.bySchedule.subarray(w * perWindow, (w + 1) * perWindow));
    if (slowest < SLOW_MS) continue;
    slowWindows++;
    const [a, b] = [samples[w], samples[w + 1]];
    const busy = othersBetween(a, b)
      .filter(([, v]) => v >= 5)
      .map(([name, v]) => `${name} ${v.toFixed(0)}`)
      .join(' ');
    console.log(
      `  at ${((w * WINDOW_MS) / 1000).toFixed(1)} s: slowest ${slowest.toFixed(1)} ms | serving thread ran ${ms(b.mainRun - a.mainRun).toFixed(0)}, waited ${ms(b.mainWait - a.mainWait).toFixed(0)} ms | others ran (ms) ${busy || '-'}`,
    );
  }
  console.log(`${slowWindows} of ${Math.floor(r.bySchedule.length / perWindow)} windows of ${WINDOW_MS} ms had a request slower than ${SLOW_MS} ms`);
} finally {
  await pool.close();
  router.child.kill('SIGTERM');
  upstream.child.kill('SIGTERM');
}
