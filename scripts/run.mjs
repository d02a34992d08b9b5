#!/usr/bin/env node
// Runs an entry point of the compiled build (dist/), building first when the build is missing or older than
// the sources, so `npm start` stays one command on a fresh clone. Plain JavaScript: it must run before any
// build exists. Signals are passed on, and the entry's exit code is ours.
//   node scripts/run.mjs service/main [role]      node scripts/run.mjs scripts/keys create --name x
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = [
  'core',
  'telemetry',
  'catalog',
  'governance',
  'store',
  'http',
  'dev',
  'router',
  'ingest',
  'analytics',
  'service',
  'scripts',
  'web/src',
  'web/index.html',
  'web/serve.ts',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
const STAMP = join(root, 'dist', '.built');

/** The newest modification time under the given paths (0 when none exist, as in an image without sources). */
function newest(paths) {
  let t = 0;
  const walk = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else t = Math.max(t, s.mtimeMs);
  };
  for (const p of paths) walk(join(root, p));
  return t;
}

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry, e.g. service/main> [args…]');
  process.exit(2);
}
const sources = newest(SOURCES);
const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : -1;
if (built < sources) {
  console.error(built < 0 ? 'switchboard: no build yet: building (npm run build)…' : 'switchboard: sources changed since the last build: building (npm run build)…');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist', `${entry}.js`), ...args], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
