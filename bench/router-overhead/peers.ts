// The peers the router is compared with, installed on demand outside the project's dependencies (in
// ~/.cache/switchboard/bench), each pointed at the same zero-delay upstream: LiteLLM's proxy (PyPI, in a
// virtual environment) and Portkey's gateway (npm). Also the Go load generator, built once.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CACHE = join(homedir(), '.cache', 'switchboard', 'bench');
const LITELLM_VERSION = '1.110.2';
const PORTKEY_VERSION = '1.15.2';
const LITELLM_KEY = 'sk-bench-0123456789abcdef0123456789';

export interface Peer {
  name: string;
  child: ChildProcess;
  url: string;
  headers: Record<string, string>;
  /** The model name this peer is asked for. */
  model: string;
}

function run(cmd: string, args: string[], cwd?: string): void {
  process.stderr.write(`bench: ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The load generator (bench/loadgen/main.go), built when missing or older than its source. */
export function loadgen(root: string): string {
  const src = join(root, 'bench', 'loadgen', 'main.go');
  const bin = join(CACHE, 'loadgen');
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(CACHE, { recursive: true });
    run('go', ['build', '-o', bin, src]);
  }
  return bin;
}

async function waitFor(url: string, child: ChildProcess, name: string, log: () => string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs / 1000} s:\n${log()}`);
}

function spawnLogged(cmd: string, args: string[], env: Record<string, string>, cwd?: string) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, log: () => out };
}

/**
 * LiteLLM's proxy, one worker (its default). PyPI serves `litellm` but not the `litellm-proxy` package its
 * `[proxy]` extra names, so the extra's other requirements are installed beside it, read from its metadata.
 */
export async function startLiteLLM(upstreamUrl: string, port: number): Promise<Peer> {
  const venv = join(CACHE, 'litellm-venv');
  const py = join(venv, 'bin', 'python');
  const marker = join(venv, `.installed-${LITELLM_VERSION}`);
  if (!existsSync(marker)) {
    if (!existsSync(py)) run('python3', ['-m', 'venv', venv]);
    run(join(venv, 'bin', 'pip'), ['install', '-q', `litellm==${LITELLM_VERSION}`]);
    const extra = execFileSync(py, [
      '-c',
      [
        'import importlib.metadata as m, re',
        "for r in m.requires('litellm') or []:",
        "    if \"extra == 'proxy'\" in r and not r.startswith('litellm-proxy') and not r.startswith('litellm-enterprise') and '3.14' not in r and '>= \\'3.15\\'' not in r: print(r.split(';')[0].strip())",
      ].join('\n'),
    ])
      .toString()
      .split('\n')
      .filter(Boolean);
    run(join(venv, 'bin', 'pip'), ['install', '-q', 'litellm-enterprise', ...extra]);
    writeFileSync(marker, new Date().toISOString());
  }
  const config = join(CACHE, 'litellm.yaml');
  writeFileSync(
    config,
    [
      'model_list:',
      '  - model_name: gpt-4o-mini',
      '    litellm_params:',
      '      model: openai/gpt-4o-mini',
      `      api_base: ${upstreamUrl}/openai/v1`,
      '      api_key: bench',
      'litellm_settings:',
      '  telemetry: false',
      '  drop_params: true',
      'general_settings:',
      '  disable_spend_logs: true',
      // Without a database the master key is checked in memory, as our keys are.
      `  master_key: ${LITELLM_KEY}`,
    ].join('\n'),
  );
  const { child, log } = spawnLogged(join(venv, 'bin', 'litellm'), ['--config', config, '--host', '127.0.0.1', '--port', String(port)], {
    LITELLM_LOG: 'ERROR',
    LITELLM_TELEMETRY: 'False',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health/liveliness`, child, 'LiteLLM', log);
  return { name: `LiteLLM ${LITELLM_VERSION}`, child, url, headers: { authorization: `Bearer ${LITELLM_KEY}` }, model: 'gpt-4o-mini' };
}

/** Portkey's open-source gateway (Hono on Node), headless. */
export async function startPortkey(upstreamUrl: string, port: number): Promise<Peer> {
  const dir = join(CACHE, 'portkey');
  const entry = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  const installed = existsSync(entry) && JSON.parse(readFileSync(join(dir, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8')).version === PORTKEY_VERSION;
  if (!installed) {
    mkdirSync(dir, { recursive: true });
    if (!readdirSync(dir).includes('package.json')) writeFileSync(join(dir, 'package.json'), '{"name":"bench-portkey","private":true}');
    run('npm', ['install', '--no-audit', '--no-fund', `@portkey-ai/gateway@${PORTKEY_VERSION}`], dir);
  }
  const { child, log } = spawnLogged(process.execPath, [entry, `--port=${port}`, '--headless'], { NODE_ENV: 'production' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/`, child, 'Portkey', log);
  return {
    name: `Portkey gateway ${PORTKEY_VERSION}`,
    child,
    url,
    headers: { authorization: 'Bearer bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamUrl}/openai/v1` },
    model: 'gpt-4o-mini',
  };
}
