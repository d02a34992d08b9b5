// bench/router-overhead (the issue's benchmark): the router processes of `npm start` (compiled, telemetry to
// the local log, the data process beside them) against the floor (floor.ts: fastify + undici, nothing
// else) and two peers (LiteLLM's proxy, Portkey's gateway), all in front of the same zero-delay upstream,
// driven by a Go load generator at fixed rates. Per target and rate: CPU per request of the target's own
// processes (the steadiest figure on a shared machine), p50/p99 and what they add over the upstream
// driven directly, and RSS. Then the saturation rate (closed loop) of the floor and of 1 and 2 router
// workers, and optionally a soak of the router's RSS.
// Usage: npx tsx bench/router-overhead/compare.ts [--rates 500,1000,2000] [--seconds 20] [--peers litellm,portkey] [--soak-seconds 300]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Peer, loadgen, startLiteLLM, startPortkey } from './peers.ts';
import { childrenOf } from '../../test/helpers/process.ts';
import { KEY, startFloor, startRouter, startUpstream } from './processes.ts';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '500,1000,2000' },
    seconds: { type: 'string', default: '20' },
    peers: { type: 'string', default: 'litellm,portkey' },
    'soak-seconds': { type: 'string', default: '0' },
    'saturation-seconds': { type: 'string', default: '10' },
  },
});
const RATES = values.rates.split(',').map(Number);
const SECONDS = Number(values.seconds);
const SOAK = Number(values['soak-seconds']);
const SATURATION = Number(values['saturation-seconds']);
const ROOT = join(import.meta.dirname, '..', '..');
const LOADGEN = loadgen(ROOT);
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  model: string;
  /** The processes whose CPU and memory count as this target's. */
  pids: () => number[];
}

interface Run {
  ok: number;
  errors: number;
  overloaded: number;
  achieved_rps: number;
  p50_ms: number;
  p99_ms: number;
}

/** utime + stime of a process, every thread, in ms. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
  } catch {
    return 0;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const descendants = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c.pid, ...descendants(c.pid)]);

function load(t: Target, rate: number, seconds: number, concurrency = 512): Run {
  const body = JSON.stringify({ model: t.model, messages: [{ role: 'user', content: 'benchmark request' }], max_tokens: 16 });
  const args = ['-url', `${t.url}/v1/chat/completions`, '-body', body, '-rate', String(rate), '-seconds', String(seconds), '-concurrency', String(concurrency)];
  for (const [k, v] of Object.entries({ 'content-type': 'application/json', ...t.headers })) args.push('-header', `${k}: ${v}`);
  return JSON.parse(execFileSync(LOADGEN, args, { encoding: 'utf8', maxBuffer: 1 << 20 }));
}

/** `npm start`'s processes, compiled, with the upstream as the one provider and `workers` routers. */
async function startSwitchboard(upstreamUrl: string, workers: number) {
  const { child, url } = await startRouter(upstreamUrl, { ROUTER_WORKERS: String(workers) }, [], true);
  const byRole = (role: string) =>
    childrenOf(child.pid!)
      .filter((c) => c.role === role)
      .map((c) => c.pid);
  return {
    target: {
      name: `Switchboard, ${workers} router process${workers > 1 ? 'es' : ''}`,
      url,
      headers: { authorization: `Bearer ${KEY}` },
      model: 'openai/gpt-4o-mini',
      pids: () => byRole('router'),
    },
    data: () => byRole('data'),
    stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
  };
}

const f1 = (n: number) => n.toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Until a target has worked off what it still queues (a peer that fell behind keeps working after the load
 * generator stopped): less than a tenth of a core over a second, at most a minute. Otherwise its backlog
 * would be charged to the next target measured.
 */
async function settle(t: Target): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const pids = t.pids();
    const before = pids.reduce((s, p) => s + cpuMs(p), 0);
    await sleep(1000);
    if (pids.reduce((s, p) => s + cpuMs(p), 0) - before < 100) return;
  }
}
const rows: string[] = [];
async function measure(t: Target, rate: number, direct: Run | undefined, extra?: () => number[]): Promise<{ cpuUs: number; run: Run; rss: number }> {
  load(t, rate, 3); // warm-up at the measured rate: JIT, pools
  const pids = t.pids();
  const before = pids.map(cpuMs);
  const extraPids = extra?.() ?? [];
  const extraBefore = extraPids.map(cpuMs);
  const run = load(t, rate, SECONDS);
  const cpu = pids.map(cpuMs).reduce((s, v, i) => s + v - before[i], 0);
  const extraCpu = extraPids.map(cpuMs).reduce((s, v, i) => s + v - extraBefore[i], 0);
  const cpuUs = (cpu * 1000) / Math.max(1, run.ok);
  const rss = pids.map(rssMb).reduce((s, v) => s + v, 0);
  const added = direct ? `${f1(run.p50_ms - direct.p50_ms)} / ${f1(run.p99_ms - direct.p99_ms)}` : '—';
  const extraNote = extraPids.length ? ` (+ data process ${((extraCpu * 1000) / Math.max(1, run.ok)).toFixed(0)} µs)` : '';
  rows.push(
    `| ${rate} | ${t.name} | ${run.achieved_rps.toFixed(0)} | ${run.errors + run.overloaded} | ${cpuUs.toFixed(0)}${extraNote} | ${f1(run.p50_ms)} / ${f1(run.p99_ms)} | ${added} | ${rss.toFixed(0)} |`,
  );
  console.log(rows.at(-1));
  await settle(t);
  return { cpuUs, run, rss };
}

const upstream = await startUpstream();
const floor = await startFloor(upstream.url);
const directTarget: Target = { name: 'upstream directly', url: `${upstream.url}/openai`, headers: {}, model: 'gpt-4o-mini', pids: () => [upstream.child.pid!] };
const floorTarget: Target = { name: 'floor (fastify + undici)', url: floor.url, headers: {}, model: 'openai/gpt-4o-mini', pids: () => [floor.child.pid!] };
const peers: Peer[] = [];
const wanted = values.peers.split(',').filter(Boolean);
if (wanted.includes('portkey')) peers.push(await startPortkey(upstream.url, 5000 + Math.floor(Math.random() * 1000)));
if (wanted.includes('litellm')) peers.push(await startLiteLLM(upstream.url, 4000 + Math.floor(Math.random() * 1000)));
const peerTargets: Target[] = peers.map((p) => ({ name: p.name, url: p.url, headers: p.headers, model: p.model, pids: () => [p.child.pid!, ...descendants(p.child.pid!)] }));

let sb = await startSwitchboard(upstream.url, 1);
const oneRouter = sb.target.name;
const results: Record<string, Record<number, { cpuUs: number; run: Run; rss: number }>> = {};
const header = '| rate (req/s) | target | achieved | errors | CPU µs / request | p50 / p99 ms | added p50 / p99 ms | RSS MB |\n|---|---|---|---|---|---|---|---|';
console.log(header);
try {
  for (const rate of RATES) {
    const direct = load(directTarget, rate, SECONDS);
    rows.push(
      `| ${rate} | upstream directly | ${direct.achieved_rps.toFixed(0)} | ${direct.errors + direct.overloaded} | — | ${f1(direct.p50_ms)} / ${f1(direct.p99_ms)} | — | — |`,
    );
    console.log(rows.at(-1));
    for (const t of [floorTarget, sb.target, ...peerTargets]) {
      (results[t.name] ??= {})[rate] = await measure(t, rate, direct, t === sb.target ? sb.data : undefined);
    }
  }

  const saturation: string[] = [];
  const sat = (t: Target) => {
    load(t, 0, 3, 64);
    const r = load(t, 0, SATURATION, 64);
    saturation.push(`| ${t.name} | ${r.achieved_rps.toFixed(0)} | ${f1(r.p50_ms)} / ${f1(r.p99_ms)} | ${r.errors} |`);
    console.log(saturation.at(-1));
    return r.achieved_rps;
  };
  const floorSat = sat(floorTarget);
  const sat1 = sat(sb.target);
  await sb.stop();
  sb = await startSwitchboard(upstream.url, 2);
  const sat2 = sat(sb.target);

  let soak = '';
  if (SOAK > 0) {
    await sb.stop();
    sb = await startSwitchboard(upstream.url, 1);
    const samples: number[] = [];
    for (let t = 0; t < SOAK; t += 15) {
      load(sb.target, 1000, Math.min(15, SOAK - t));
      samples.push(
        sb.target
          .pids()
          .map(rssMb)
          .reduce((s, v) => s + v, 0),
      );
    }
    soak = `Router RSS over ${SOAK} s at 1,000 req/s, every 15 s (MB): ${samples.map((s) => s.toFixed(0)).join(', ')}`;
    console.log(soak);
  }

  const floorR = results[floorTarget.name];
  const routerR = results[oneRouter];
  const ratios = RATES.map((rate) => {
    const r = routerR[rate];
    const f = floorR[rate];
    const peersNote = peerTargets
      .map((p) => {
        const x = results[p.name][rate];
        return `${p.name}: CPU ${(x.cpuUs / r.cpuUs).toFixed(1)}×, p99 ${(x.run.p99_ms / r.run.p99_ms).toFixed(1)}× ours`;
      })
      .join('; ');
    return `- ${rate} req/s: router CPU/request ${(r.cpuUs / f.cpuUs).toFixed(2)}× the floor's; p99 ${(r.run.p99_ms / f.run.p99_ms).toFixed(2)}× the floor's${peersNote ? `; ${peersNote}` : ''}`;
  });
  console.log(
    `\n${header}\n${rows.join('\n')}\n\n| saturation (64 clients, closed loop) | req/s | p50 / p99 ms | errors |\n|---|---|---|---|\n${saturation.join('\n')}\n\nSaturation: 1 router ${(sat1 / floorSat).toFixed(2)}× the floor, 2 routers ${(sat2 / floorSat).toFixed(2)}×.\n${ratios.join('\n')}\n${soak}`,
  );
} finally {
  await sb.stop();
  for (const p of peers) p.child.kill('SIGTERM');
  floor.child.kill('SIGTERM');
  upstream.child.kill('SIGTERM');
}
