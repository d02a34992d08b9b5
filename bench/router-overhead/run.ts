// bench/router-overhead/run.ts: the router's main thread beside the floor's with a Node load generator,
// event-loop lag and a soak (the comparison with peers and the figures: compare.ts). Added latency
// of one router process over a zero-delay loopback upstream, at a fixed request rate, against the same
// upstream driven directly in the same run, and against the floor (floor.ts: the least proxy on the same
// stack) to tell the stack's part from ours.
// Usage: npm run bench:router-thread -- [--rps 2000] [--seconds 20] [--soak-seconds 0]
// Environment: BENCH_ROUTER_ENV (JSON of extra router environment), BENCH_ROUTER_NODE_ARGS (node flags for
// the router, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
import { parseArgs } from 'node:util';
import { keepAlivePool, mergeResults, openLoop, quantile, saturate, type LoadResult, type Target } from './load.ts';
import { directTarget, floorTarget, mainThreadCpuMs, metric, metrics, routedTarget, startFloor, startRouter, startUpstream } from './processes.ts';

const { values } = parseArgs({
  options: { rps: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '20' }, 'soak-seconds': { type: 'string', default: '0' } },
});
const RPS = Number(values.rps);
const SECONDS = Number(values.seconds);
const SOAK = Number(values['soak-seconds']);

function summary(name: string, r: LoadResult) {
  return {
    name,
    p50: quantile(r.latenciesMs, 0.5),
    p90: quantile(r.latenciesMs, 0.9),
    p99: quantile(r.latenciesMs, 0.99),
    p999: quantile(r.latenciesMs, 0.999),
    errors: r.errors,
    rps: r.achievedRps,
  };
}

async function loopLag(routerUrl: string): Promise<string> {
  const m = await metrics(routerUrl, 'nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds');
  const ms = (s: number) => (s * 1000).toFixed(1);
  return `event-loop lag p50 ${ms(m.nodejs_eventloop_lag_p50_seconds)} ms, p99 ${ms(m.nodejs_eventloop_lag_p99_seconds)} ms, max ${ms(m.nodejs_eventloop_lag_max_seconds)} ms`;
}

const rssMb = async (routerUrl: string) => (await metric(routerUrl, 'process_resident_memory_bytes')) / 1048576;

const upstream = await startUpstream();
const router = await startRouter(
  upstream.url,
  process.env.BENCH_ROUTER_ENV ? JSON.parse(process.env.BENCH_ROUTER_ENV) : {},
  process.env.BENCH_ROUTER_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
);
const floor = await startFloor(upstream.url);
const routerUrl = router.url;
const direct = directTarget(upstream.url);
const floored = floorTarget(floor.url);
const routed = routedTarget(router.url);

const pools = { direct: keepAlivePool(direct), floor: keepAlivePool(floored), router: keepAlivePool(routed) };

try {
  // Warm every path (JIT, connection pools, chDB's first inserts) at the measured rate before measuring.
  await openLoop(direct, RPS, 2, pools.direct);
  await openLoop(floored, RPS, 2, pools.floor);
  await openLoop(routed, RPS, 4, pools.router);
  const rssStart = await rssMb(routerUrl);

  // Alternate halves so slow drift of the machine hits both sides alike.
  const half = SECONDS / 2;
  const cpuMs = { floor: 0, router: 0 };
  const measured = async (side: 'floor' | 'router', target: Target, pid: number) => {
    const c0 = mainThreadCpuMs(pid);
    const r = await openLoop(target, RPS, half, pools[side]);
    cpuMs[side] += mainThreadCpuMs(pid) - c0;
    return r;
  };
  const d1 = await openLoop(direct, RPS, half, pools.direct);
  const f1 = await measured('floor', floored, floor.pid);
  const r1 = await measured('router', routed, router.pid);
  const d2 = await openLoop(direct, RPS, half, pools.direct);
  const f2 = await measured('floor', floored, floor.pid);
  const r2 = await measured('router', routed, router.pid);
  const lag = await loopLag(routerUrl);
  const D = summary('direct', mergeResults([d1, d2]));
  const F = summary('floor', mergeResults([f1, f2]));
  const R = summary('router', mergeResults([r1, r2]));

  const satDirect = await saturate(direct, 64, 5);
  const satFloor = await saturate(floored, 64, 5);
  const satRouter = await saturate(routed, 64, 5);

  let soak = '';
  if (SOAK > 0) {
    const samples: number[] = [await rssMb(routerUrl)];
    const step = 30;
    for (let t = 0; t < SOAK; t += step) {
      await openLoop(routed, RPS, Math.min(step, SOAK - t), pools.router);
      samples.push(await rssMb(routerUrl));
    }
    soak = `soak ${SOAK}s at ${RPS} rps: router RSS MB ${samples.map((x) => x.toFixed(0)).join(' → ')}`;
  }
  const rssEnd = await rssMb(routerUrl);

  const f = (x: number) => x.toFixed(3);
  console.log(`router-overhead  ${new Date().toISOString()}  rate ${RPS} req/s for ${SECONDS} s per side, zero-delay upstream, telemetry on`);
  console.log(`direct   p50 ${f(D.p50)} ms  p90 ${f(D.p90)} ms  p99 ${f(D.p99)} ms  p99.9 ${f(D.p999)} ms  errors ${D.errors}  achieved ${D.rps.toFixed(0)} req/s`);
  console.log(`floor    p50 ${f(F.p50)} ms  p90 ${f(F.p90)} ms  p99 ${f(F.p99)} ms  p99.9 ${f(F.p999)} ms  errors ${F.errors}  achieved ${F.rps.toFixed(0)} req/s`);
  console.log(`router   p50 ${f(R.p50)} ms  p90 ${f(R.p90)} ms  p99 ${f(R.p99)} ms  p99.9 ${f(R.p999)} ms  errors ${R.errors}  achieved ${R.rps.toFixed(0)} req/s`);
  console.log(`router ${lag}`);
  console.log(`added    p50 ${f(R.p50 - D.p50)} ms  p99 ${f(R.p99 - D.p99)} ms   (ratio router/direct p50 ${(R.p50 / D.p50).toFixed(2)}, p99 ${(R.p99 / D.p99).toFixed(2)})`);
  console.log(`floor    p50 ${f(F.p50 - D.p50)} ms  p99 ${f(F.p99 - D.p99)} ms added by the stack alone (fastify + undici, no routing or telemetry)`);
  const perRequestUs = (side: 'floor' | 'router') => (cpuMs[side] * 1000) / (RPS * SECONDS);
  console.log(
    `main-thread CPU per request: floor ${perRequestUs('floor').toFixed(0)} µs, router ${perRequestUs('router').toFixed(0)} µs (ratio ${(perRequestUs('router') / perRequestUs('floor')).toFixed(2)})`,
  );
  console.log(
    `saturation (64 concurrent, 5 s): direct ${satDirect.rps.toFixed(0)} req/s, floor ${satFloor.rps.toFixed(0)} req/s, router ${satRouter.rps.toFixed(0)} req/s (errors ${satRouter.errors}), ratio ${(satRouter.rps / satDirect.rps).toFixed(2)}`,
  );
  console.log(`telemetry dropped by the router: ${await metric(routerUrl, 'switchboard_telemetry_dropped_total')}`);
  console.log(`router RSS ${rssStart.toFixed(0)} MB after warm-up → ${rssEnd.toFixed(0)} MB at end`);
  if (soak) console.log(soak);
} finally {
  await Promise.all(Object.values(pools).map((p) => p.close()));
  router.child.kill('SIGTERM');
  floor.child.kill('SIGTERM');
  upstream.child.kill('SIGTERM');
}
