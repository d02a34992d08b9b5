// Where a router process spends its CPU: the router (compiled, one process under the supervisor) at a fixed
// rate under `--cpu-prof`, summarised as shares of its busy time by function (self and inclusive), and, when
// strace is installed, the system calls per request of the router and of the floor at the same rate.
// Usage: npx tsx bench/router-overhead/profile.ts [--rate 1000] [--seconds 30] [--top 30]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KEY, startFloor, startRouter, startUpstream } from './processes.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '30' }, top: { type: 'string', default: '30' } } });
const LOADGEN = join(homedir(), '.cache/switchboard/bench/loadgen');
const body = JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'benchmark request' }], max_tokens: 16 });
const load = (url: string, seconds: number) =>
  execFileSync(
    LOADGEN,
    [
      '-url',
      `${url}/v1/chat/completions`,
      '-body',
      body,
      '-rate',
      values.rate,
      '-seconds',
      String(seconds),
      '-concurrency',
      '512',
      '-header',
      'content-type: application/json',
      '-header',
      `authorization: Bearer ${KEY}`,
    ],
    {
      encoding: 'utf8',
    },
  );

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self and inclusive shares of the busy (non-idle) time, by function. */
function summarise(path: string, top: number): string[] {
  const p = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\//, '')}:${n.callFrame.lineNumber + 1}`;
  const time = new Map<number, number>();
  for (const [i, id] of p.samples.entries()) time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const [id, t] of time) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    busy += t;
    self.set(name(node), (self.get(name(node)) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur)!);
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + t), seen.add(k);
    }
  }
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, t]) => `${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
  return [`busy ${(busy / 1e6).toFixed(1)} s`, '-- self', ...rows(self), '-- inclusive', ...rows(inclusive)];
}

/** System calls of a process and its threads over one load run, as counted by `strace -c`. */
async function syscalls(pid: number, url: string, seconds: number): Promise<string> {
  const st = spawn('strace', ['-f', '-c', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  st.stderr.on('data', (c) => (out += c));
  await new Promise((r) => setTimeout(r, 500));
  load(url, seconds);
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  return out
    .split('\n')
    .filter((l) => !l.startsWith('strace:'))
    .slice(0, 12)
    .join('\n');
}

const seconds = Number(values.seconds);
const dir = mkdtempSync(join(tmpdir(), 'sb-profile-'));
const upstream = await startUpstream();
try {
  const router = await startRouter(upstream.url, {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`], true);
  load(router.url, 3);
  console.log(load(router.url, seconds));
  await new Promise<void>((r) => (router.child.once('exit', () => r()), router.child.kill('SIGTERM')));
  // The router's profile is the one its process wrote (the supervisor, the data process and its threads write theirs too).
  const mine = readdirSync(dir).filter((f) => f.includes(`.${router.pid}.`));
  const largest = mine.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  console.log(summarise(join(dir, largest), Number(values.top)).join('\n'));

  const hasStrace = (() => {
    try {
      execFileSync('strace', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasStrace) console.log('strace is not installed: system calls not counted');
  else {
    const again = await startRouter(upstream.url, {}, [], true);
    const floor = await startFloor(upstream.url);
    for (const [label, t] of [
      ['router', again],
      ['floor', floor],
    ] as const) {
      load(t.url, 3);
      console.log(`-- system calls, ${label}, ${seconds} s at ${values.rate} req/s\n${await syscalls(t.pid, t.url, seconds)}`);
    }
    again.child.kill('SIGTERM');
    floor.child.kill('SIGTERM');
  }
} finally {
  upstream.child.kill('SIGTERM');
}
process.exit(0);
