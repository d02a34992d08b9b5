// The processes the router benchmarks drive: the zero-delay upstream, the service as `npm start` runs it
// (a supervisor, one router process, the data process) and the floor proxy, each its own node process,
// started and awaited by their printed URL.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenOf } from '../../test/helpers/process.ts';
import type { Target } from './load.ts';

export const KEY = 'bench-key-0123456789abcdef';

export interface Started {
  child: ChildProcess;
  url: string;
  /** The process that serves the requests (for the service: its router process, not the supervisor). */
  pid: number;
}

/** Node with these arguments (TypeScript entries need `--import tsx` among them). */
function start(args: string[], env: Record<string, string>, marker: RegExp): Promise<Started> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = marker.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], pid: child.pid! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 60 s:\n${out}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${out}`)));
  });
}

export const startUpstream = () => start(['--import', 'tsx', 'bench/router-overhead/upstream.ts'], {}, /UPSTREAM (http:\/\/\S+)/);
export const startFloor = (upstreamUrl: string) => start(['--import', 'tsx', 'bench/router-overhead/floor.ts', upstreamUrl], {}, /FLOOR (http:\/\/\S+)/);

/** The router process among a supervisor's children. */
function routerOf(supervisor: number): number {
  const router = childrenOf(supervisor).find((c) => c.role === 'router');
  if (!router) throw new Error(`no router process under ${supervisor}`);
  return router.pid;
}

/**
 * The service with the upstream as its one provider and one router process; `env` and `nodeArgs` add to its
 * defaults. `compiled`: as production runs it (built first when stale), else its TypeScript through tsx.
 */
export async function startRouter(upstreamUrl: string, env: Record<string, string> = {}, nodeArgs: string[] = [], compiled = false): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  writeFileSync(join(dir, 'providers.json'), JSON.stringify({ providers: [{ name: 'openai', baseUrl: `${upstreamUrl}/openai` }] }));
  const defaults = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    SWITCHBOARD_DEV_KEY: KEY,
    SWITCHBOARD_CONFIG: join(dir, 'providers.json'),
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '10000000',
    ROUTER_WORKERS: '1',
  };
  if (compiled) execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const entry = compiled ? ['--enable-source-maps', 'dist/service/main.js'] : ['--import', 'tsx', 'service/main.ts'];
  const started = await start([...nodeArgs, ...entry], { ...defaults, ...env }, /"url":"(http:\/\/[^"]+)"/);
  return { ...started, pid: routerOf(started.child.pid!) };
}

const body = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'benchmark request' }], max_tokens: 16 });
export const directTarget = (upstreamUrl: string): Target => ({
  origin: upstreamUrl,
  path: '/openai/v1/chat/completions',
  headers: { 'content-type': 'application/json' },
  body: body('gpt-4o-mini'),
});
export const floorTarget = (floorUrl: string): Target => ({
  origin: floorUrl,
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json' },
  body: body('openai/gpt-4o-mini'),
});
export const routedTarget = (routerUrl: string): Target => ({
  origin: routerUrl,
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
  body: body('openai/gpt-4o-mini'),
});

/** Figures from one read of a router's /metrics (one read: prom-client resets the event-loop histogram on each). */
export async function metrics<N extends string>(routerUrl: string, ...names: N[]): Promise<Record<N, number>> {
  const text = await (await fetch(`${routerUrl}/metrics`)).text();
  return Object.fromEntries(names.map((n) => [n, Number(new RegExp(`^${n} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)])) as Record<N, number>;
}

export const metric = async (routerUrl: string, name: string) => (await metrics(routerUrl, name))[name];

let ticksPerSecond: number | undefined;

/**
 * CPU time (ms) the main thread of process `pid` has used so far (Linux: /proc), or NaN elsewhere. Per
 * request, it is a steadier figure than latency on a noisy machine: what each request costs the thread
 * that serves them all.
 */
export function mainThreadCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond; // utime + stime
  } catch {
    return NaN;
  }
}
