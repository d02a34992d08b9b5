import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './service.ts';

export interface Child {
  proc: ChildProcess;
  log: () => string;
  url: string;
}

/** The compiled entry point, as production runs it (test/global-setup.ts builds dist/ before the suites). */
const ENTRY = join(import.meta.dirname, '..', '..', 'dist', 'service', 'main.js');

/** Start the compiled service as its own process (as `npm start` / `npm run <role>` would) and wait for it to listen. */
export async function startServiceProcess(role: string | undefined, env: Record<string, string>, timeoutMs = 60_000): Promise<Child> {
  const proc = spawn(process.execPath, ['--enable-source-maps', ENTRY, ...(role ? [role] : [])], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service ${role ?? 'all'} did not start:\n${out}`)), timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service ${role ?? 'all'} exited with ${code}:\n${out}`));
    });
  });
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { proc, url, log: () => out };
}

/** `npm start` as a new user runs it, on a fresh data directory: the bundled simulator (fast), no demo traffic. */
export const startQuietService = (key: string): Promise<Child> =>
  startServiceProcess(undefined, {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'switchboard-e2e-')),
    SWITCHBOARD_DEV_KEY: key,
    SIMULATOR_LATENCY_SCALE: '0.05',
    TELEMETRY_FLUSH_MS: '200',
    DEMO: 'off',
  });

export function stopProcess(child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return Promise.resolve(child.proc.exitCode);
  const exited = new Promise<number | null>((r) => child.proc.once('exit', (code) => r(code)));
  child.proc.kill(signal);
  return exited;
}

/** The processes a supervisor started, by role (Linux: read from /proc). */
export function childrenOf(pid: number): { pid: number; role: string }[] {
  const out: { pid: number; role: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(entry), role: args[args.length - 1] });
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}

/** Whether a process still runs. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the first `role` process a supervisor runs; returns its pid. */
export function killChild(supervisor: Child, role: string): number {
  const c = childrenOf(supervisor.proc.pid!).find((p) => p.role === role);
  if (!c) throw new Error(`no ${role} process under the supervisor`);
  process.kill(c.pid, 'SIGKILL');
  return c.pid;
}

/** Until the supervisor runs `count` `role` processes again, none of them the killed one. */
export async function restartedAfter(supervisor: Child, killed: number, role: string, count: number): Promise<void> {
  await eventually(
    async () => childrenOf(supervisor.proc.pid!).filter((p) => p.role === role && p.pid !== killed).length,
    (n) => n >= count,
    120_000,
  );
}

/** SIGKILLs a supervisor and waits until the processes it started, which stop on losing it, are gone. */
export async function killSupervisor(supervisor: Child): Promise<void> {
  const children = childrenOf(supervisor.proc.pid!).map((c) => c.pid);
  await stopProcess(supervisor, 'SIGKILL');
  await eventually(
    async () => children.filter(alive).length,
    (n) => n === 0,
    120_000,
  );
}
