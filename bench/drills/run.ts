// Closed-loop drills, longer than the tests: several routers under steady load over a real Kafka broker,
// one fault at a time on the endpoint with the largest share of a popular model. Prints, per fault: time
// until ≥ 95% of the model's traffic is elsewhere, client-visible failures, time until the share is back.
//   KAFKA_BROKERS=127.0.0.1:19092 npx tsx bench/drills/run.ts [--fault-s 60] [--rps 60] [--routers 3] [--only error,latency]
import { parseArgs } from 'node:util';
import { loadCatalog } from '../../catalog/catalog.ts';
import type { Fault } from '../../dev/simulator/faults.ts';
import { normalShareOf, runDrill, startFleet, SteadyLoad, type DrillResult } from '../../test/helpers/fleet.ts';

const { values } = parseArgs({
  options: {
    'fault-s': { type: 'string', default: '60' },
    rps: { type: 'string', default: '60' },
    routers: { type: 'string', default: '3' },
    only: { type: 'string', default: '' },
    'warm-s': { type: 'string', default: '20' },
  },
});
const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  console.error('KAFKA_BROKERS is required (scripts/kafka.sh start prints it)');
  process.exit(2);
}
const MODEL = 'meta-llama/llama-3.3-70b-instruct';
const WATCH = 'lambda';
const watch = loadCatalog()
  .model(MODEL)!
  .endpoints.find((e) => e.provider === WATCH)!;
const faultS = Number(values['fault-s']);
const INTERVAL = 1000;

const drills: { name: string; stream: boolean; fault: Fault }[] = [
  { name: 'error', stream: false, fault: { provider: WATCH, model: MODEL, mode: 'error', status: 500 } },
  { name: 'latency', stream: false, fault: { provider: WATCH, model: MODEL, mode: 'latency', multiplier: 10 } },
  { name: 'rate_limit', stream: false, fault: { provider: WATCH, model: MODEL, mode: 'rate_limit', retryAfterSeconds: 1 } },
  { name: 'cut_stream', stream: true, fault: { provider: WATCH, model: MODEL, mode: 'cut_stream' } },
];
const chosen = values.only ? drills.filter((d) => values.only!.split(',').includes(d.name)) : drills;

const fleet = await startFleet({
  brokers,
  prefix: `bench-drills-${Date.now()}.`,
  routers: Number(values.routers),
  latencyScale: 0.1,
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
});
const results: DrillResult[] = [];
try {
  for (const d of chosen) {
    const load = new SteadyLoad(fleet, { model: MODEL, rps: Number(values.rps), stream: d.stream, maxTokens: 24, watch, intervalMs: INTERVAL });
    load.start();
    await new Promise((r) => setTimeout(r, Number(values['warm-s']) * 1000));
    const normal = normalShareOf(load);
    console.log(`[${d.name}] normal share of ${WATCH}: ${(normal * 100).toFixed(1)}% at ${values.rps} req/s over ${values.routers} routers; fault for ${faultS} s`);
    const r = await runDrill(fleet, load, normal, { fault: d.fault, faultS, recoverWaitS: 120, backAt: 0.8, smoothRows: 5 }, INTERVAL);
    await load.stop();
    results.push(r);
    console.log(
      `[${d.name}] left after ${r.leftAfterS ?? 'never'} s over 5-s windows, ${r.leftAfterS1 ?? 'never'} s over every 1-s interval (share then ${(r.shareWhileFaulted * 100).toFixed(2)}%), client failures ${r.failures}/${r.requests} = ${((r.failures / Math.max(1, r.requests)) * 100).toFixed(3)}%, back after ${r.backAfterS ?? '>120'} s`,
    );
    for (const f of load.failures.slice(0, 3)) console.log(`    failure at ${f.t.toFixed(1)} s: ${f.status} ${f.detail.slice(0, 160)}`);
    if (process.env.DRILL_ROWS) console.log(load.rows.map((x) => `${x.t}:${x.atEndpoint}/${x.atModel}${x.failures ? `!${x.failures}` : ''}`).join(' '));
  }
} finally {
  await fleet.close();
}
console.log('\nfault                          left ≤5% (s, 5-s / 1-s)  share after  failures        back ≥80% (s)');
for (const r of results) {
  console.log(
    `${r.fault.padEnd(30)} ${`${r.leftAfterS ?? 'never'} / ${r.leftAfterS1 ?? 'never'}`.padStart(23)}  ${(r.shareWhileFaulted * 100).toFixed(2).padStart(10)}%  ${`${r.failures}/${r.requests}`.padStart(10)} ${((r.failures / Math.max(1, r.requests)) * 100).toFixed(3).padStart(6)}%  ${String(r.backAfterS ?? '>120').padStart(8)}`,
  );
}
process.exit(0);
