// bench/router-overhead: added latency of the router (with telemetry into chDB) over a zero-delay
// loopback upstream, at a fixed request rate, against the same upstream driven directly in the same run.
// Usage: npm run bench:router-overhead -- [--rps 2000] [--seconds 20] [--soak-seconds 0]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLoop, quantile, saturate, type LoadResult, type Target } from './load.ts';

const { values } = parseArgs({ options: { rps: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '20' }, 'soak-seconds': { type: 'string', default: '0' } } });
const RPS = Number(values.rps);
const SECONDS = Number(values.seconds);
const SOAK = Number(values['soak-seconds']);
const KEY = 'bench-key-0123456789abcdef';

function start(args: string[], env: Record<string, string>, marker: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = marker.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start within 60 s:\n${out}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}:\n${out}`)));
  });
}

const body = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'benchmark request' }], max_tokens: 16 });

function summary(name: string, r: LoadResult) {
  return { name, p50: quantile(r.latenciesMs, 0.5), p90: quantile(r.latenciesMs, 0.9), p99: quantile(r.latenciesMs, 0.99), p999: quantile(r.latenciesMs, 0.999), errors: r.errors, rps: r.achievedRps };
}

async function loopLag(routerUrl: string): Promise<string> {
  const text = await (await fetch(`${routerUrl}/metrics`)).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return `event-loop lag p50 ${get('nodejs_eventloop_lag_p50_seconds').toFixed(1)} ms, p99 ${get('nodejs_eventloop_lag_p99_seconds').toFixed(1)} ms, max ${get('nodejs_eventloop_lag_max_seconds').toFixed(1)} ms`;
}

async function rssMb(routerUrl: string): Promise<number> {
  const text = await (await fetch(`${routerUrl}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)![1]) / 1048576;
}

const upstream = await start(['bench/router-overhead/upstream.ts'], {}, /UPSTREAM (http:\/\/\S+)/);
const upstreamUrl = upstream.match[1];
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
writeFileSync(join(dir, 'providers.json'), JSON.stringify({ providers: [{ name: 'openai', baseUrl: `${upstreamUrl}/openai` }] }));
const router = await start(['service/main.ts'], { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, SWITCHBOARD_DEV_KEY: KEY, SWITCHBOARD_CONFIG: join(dir, 'providers.json'), LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '10000000', ...(process.env.BENCH_ROUTER_ENV ? JSON.parse(process.env.BENCH_ROUTER_ENV) : {}) }, /"url":"(http:\/\/[^"]+)"/);
const routerUrl = router.match[1];

const direct: Target = { origin: upstreamUrl, path: '/openai/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: body('gpt-4o-mini') };
const routed: Target = { origin: routerUrl, path: '/v1/chat/completions', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: body('openai/gpt-4o-mini') };

try {
  // Warm both paths (JIT, connection pools, chDB's first inserts) before measuring.
  await openLoop(direct, 500, 2);
  await openLoop(routed, 500, 4);
  const rssStart = await rssMb(routerUrl);

  // Alternate halves so slow drift of the machine hits both sides alike.
  const half = SECONDS / 2;
  const d1 = await openLoop(direct, RPS, half);
  const r1 = await openLoop(routed, RPS, half);
  const d2 = await openLoop(direct, RPS, half);
  const r2 = await openLoop(routed, RPS, half);
  const merge = (a: LoadResult, b: LoadResult): LoadResult => {
    const l = new Float64Array(a.latenciesMs.length + b.latenciesMs.length);
    l.set(a.latenciesMs);
    l.set(b.latenciesMs, a.latenciesMs.length);
    l.sort();
    return { sent: a.sent + b.sent, ok: a.ok + b.ok, errors: a.errors + b.errors, latenciesMs: l, achievedRps: (a.achievedRps + b.achievedRps) / 2 };
  };
  const lag = await loopLag(routerUrl);
  const D = summary('direct', merge(d1, d2));
  const R = summary('router', merge(r1, r2));

  const satDirect = await saturate(direct, 64, 5);
  const satRouter = await saturate(routed, 64, 5);

  let soak = '';
  if (SOAK > 0) {
    const samples: number[] = [await rssMb(routerUrl)];
    const step = 30;
    for (let t = 0; t < SOAK; t += step) {
      await openLoop(routed, RPS, Math.min(step, SOAK - t));
      samples.push(await rssMb(routerUrl));
    }
    soak = `soak ${SOAK}s at ${RPS} rps: router RSS MB ${samples.map((x) => x.toFixed(0)).join(' → ')}`;
  }
  const rssEnd = await rssMb(routerUrl);

  const f = (x: number) => x.toFixed(3);
  console.log(`router-overhead  ${new Date().toISOString()}  rate ${RPS} req/s for ${SECONDS} s per side, zero-delay upstream, telemetry on`);
  console.log(`direct   p50 ${f(D.p50)} ms  p90 ${f(D.p90)} ms  p99 ${f(D.p99)} ms  p99.9 ${f(D.p999)} ms  errors ${D.errors}  achieved ${D.rps.toFixed(0)} req/s`);
  console.log(`router   p50 ${f(R.p50)} ms  p90 ${f(R.p90)} ms  p99 ${f(R.p99)} ms  p99.9 ${f(R.p999)} ms  errors ${R.errors}  achieved ${R.rps.toFixed(0)} req/s`);
  console.log(`router ${lag}`);
  console.log(`added    p50 ${f(R.p50 - D.p50)} ms  p99 ${f(R.p99 - D.p99)} ms   (ratio router/direct p50 ${(R.p50 / D.p50).toFixed(2)}, p99 ${(R.p99 / D.p99).toFixed(2)})`);
  console.log(`saturation (64 concurrent, 5 s): direct ${satDirect.rps.toFixed(0)} req/s, router ${satRouter.rps.toFixed(0)} req/s (errors ${satRouter.errors}), ratio ${(satRouter.rps / satDirect.rps).toFixed(2)}`);
  console.log(`router RSS ${rssStart.toFixed(0)} MB after warm-up → ${rssEnd.toFixed(0)} MB at end`);
  if (soak) console.log(soak);
} finally {
  router.child.kill('SIGTERM');
  upstream.child.kill('SIGTERM');
}
