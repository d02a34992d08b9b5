// Page weight: builds the public pages and reports the JavaScript the rankings page loads (every script
// index.html references, and what those import), raw and gzip-compressed, against the 300 KB budget.
//   npx tsx bench/web/weight.ts
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const BUDGET_GZIP = 300 * 1024;
const out = mkdtempSync(join(tmpdir(), 'switchboard-web-weight-'));
await build({ configFile: join(import.meta.dirname, '..', '..', 'web', 'vite.config.ts'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
const html = readFileSync(join(out, 'index.html'), 'utf8');
const seen = new Set<string>();
const queue = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="([^"]+\.js)"/g)].map((m) => m[1]);
while (queue.length > 0) {
  const src = queue.shift()!;
  if (seen.has(src)) continue;
  seen.add(src);
  const code = readFileSync(join(out, src), 'utf8');
  // Static imports between chunks ("./x.js" relative to /assets/) load with the page too.
  for (const m of code.matchAll(/from\s*"\.\/([^"]+\.js)"/g)) queue.push(`/assets/${m[1]}`);
}
let raw = 0;
let gz = 0;
for (const src of seen) {
  const bytes = readFileSync(join(out, src));
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
  console.log(`${src}: ${(bytes.length / 1024).toFixed(1)} KB raw, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KB gzip`);
}
console.log(`rankings page JavaScript: ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzip = ${((gz / BUDGET_GZIP) * 100).toFixed(0)}% of the 300 KB budget`);
process.exit(gz <= BUDGET_GZIP ? 0 : 1);
