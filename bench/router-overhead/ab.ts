// Two configurations of the embedded router side by side, on the same upstream: rounds at a fixed rate
// alternate between them, so the machine's drift hits both alike, and the figures are ratios of B to A.
// The default compares the background threads left at nice 0 (A, the baseline) with the shipped default
// BACKGROUND_NICE (B; core/thread-priority.ts). Each side: `--a-env`/`--b-env` (JSON of router
// environment) and `--a-args=…`/`--b-args=…` (node flags, e.g. `--b-args=--max-semi-space-size=64`).
// Usage: npx tsx bench/router-overhead/ab.ts [--rps 2000] [--seconds 5] [--rounds 5] [--a-env '{"BACKGROUND_NICE":"0"}'] [--b-env '{}']
import { parseArgs } from 'node:util';
import { keepAlivePool, mergeResults, openLoop, quantile, type LoadResult } from './load.ts';
import { metric, routedTarget, startRouter, startUpstream } from './processes.ts';

const text = (d: string) => ({ type: 'string' as const, default: d });
const { values } = parseArgs({
  options: { rps: text('2000'), seconds: text('5'), rounds: text('5'), 'a-env': text('{"BACKGROUND_NICE":"0"}'), 'b-env': text('{}'), 'a-args': text(''), 'b-args': text('') },
});
const RPS = Number(values.rps);
const SECONDS = Number(values.seconds);

const upstream = await startUpstream();
const side = async (name: 'A' | 'B', env: string, args: string) => {
  console.log(`${name}: environment ${env}${args ? `, node ${args}` : ''}`);
  return { name, router: await startRouter(upstream.url, JSON.parse(env), args.split(' ').filter(Boolean)) };
};
const sides = [await side('A', values['a-env'], values['a-args']), await side('B', values['b-env'], values['b-args'])].map((s) => ({
  ...s,
  target: routedTarget(s.router.url),
  results: [] as LoadResult[],
}));
const pools = sides.map((s) => keepAlivePool(s.target));

const fmt = (r: Float64Array) =>
  `p50 ${quantile(r, 0.5).toFixed(2)}  p90 ${quantile(r, 0.9).toFixed(2)}  p99 ${quantile(r, 0.99).toFixed(2)}  max ${r[r.length - 1].toFixed(1)} ms`;
try {
  for (const [i, s] of sides.entries()) await openLoop(s.target, RPS, 3, pools[i]); // warm: JIT, pools, chDB's first inserts
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [i, s] of sides.entries()) {
      const r = await openLoop(s.target, RPS, SECONDS, pools[i]);
      s.results.push(r);
      console.log(`round ${round + 1}  ${s.name} ${fmt(r.latenciesMs)}  errors ${r.errors}`);
    }
  }
  const merged = sides.map((s) => mergeResults(s.results).latenciesMs);
  console.log(`router a/b  ${new Date().toISOString()}  ${RPS} req/s, ${values.rounds} rounds of ${SECONDS} s per side, two embedded routers side by side`);
  for (const [i, s] of sides.entries()) {
    console.log(`${s.name} ${fmt(merged[i])}  telemetry dropped ${await metric(s.router.url, 'switchboard_telemetry_dropped_total')}`);
  }
  const ratio = (q: number) => (quantile(merged[1], q) / quantile(merged[0], q)).toFixed(2);
  console.log(`ratio B / A: p50 ${ratio(0.5)}, p90 ${ratio(0.9)}, p99 ${ratio(0.99)}`);
} finally {
  await Promise.all(pools.map((p) => p.close()));
  for (const s of sides) s.router.child.kill('SIGTERM');
  upstream.child.kill('SIGTERM');
}
