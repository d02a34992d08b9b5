// bench/queries: with N million raw request rows generated inside ClickHouse (chDB), the p50/p95 of every
// public analytics endpoint and of the usage API, through the real routes (app.inject), against a
// `SELECT 1` round trip measured in the same run as the baseline.
// Usage: npm run bench:queries -- [--rows 50000000] [--runs 30] [--no-settle] [--load-s 120] [--load-rps 20] [--reuse DIR]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog } from '../../catalog/catalog.ts';
import { closeClickHouse, openClickHouse, queryRows } from '../../store/clickhouse.ts';
import { migrate } from '../../store/migrate.ts';
import { createLogger } from '../../core/logger.ts';
import { Metrics } from '../../core/metrics.ts';
import { KeyStore } from '../../router/auth/key-store.ts';
import { buildApp } from '../../service/app.ts';
import { Warmup } from '../../core/refreshing-cache.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000000' },
    runs: { type: 'string', default: '30' },
    settle: { type: 'boolean', default: true },
    'load-s': { type: 'string', default: '120' },
    'load-rps': { type: 'string', default: '20' },
    reuse: { type: 'string' },
  },
  allowNegative: true,
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const LOAD_S = Number(values['load-s']);
const LOAD_RPS = Number(values['load-rps']);
// --reuse DIR measures again on the rows an earlier run generated into DIR (its path is printed).
const dir = values.reuse ?? mkdtempSync(join(tmpdir(), 'bench-queries-'));
console.log(`data directory: ${dir}`);
const ch = await openClickHouse({ url: undefined, dataDir: dir });
await migrate(ch, 400);
const catalog = loadCatalog();
const endpoints = [...catalog.endpoints];

// Generated in ClickHouse: 60 days, 20,000 accounts, every catalog endpoint. Each account has a home app
// and category and three models (one main at 70% of its requests), drawn with skewed popularity, as real
// accounts use a few models (a generator where every account used every model and app made the
// per-account rollups as large as the raw rows).
const models = `[${endpoints.map((e) => `'${e.model}'`).join(',')}]`;
const providers = `[${endpoints.map((e) => `'${e.provider}'`).join(',')}]`;
const ids = `[${endpoints.map((e) => `'${e.id}'`).join(',')}]`;
const t0 = Date.now();
const CHUNK = 5_000_000;
for (let done = 0; done < ROWS && values.reuse === undefined; done += CHUNK) {
  const n = Math.min(CHUNK, ROWS - done);
  await ch.command({
    query: `INSERT INTO requests (event_id, generation_id, ts, account_id, key_id, app, category, requested_model, served_model, provider, endpoint_id, status, error_class, latency_ms, ttft_ms, tokens_prompt, tokens_completion, cost_usd, fee_usd, streamed, fallback_depth, attempts)
      SELECT generateUUIDv4(), concat('gen-b', toString(number + ${done})), now64(3) - toIntervalMillisecond(rand(1) % (60 * 86400000)),
             concat('acct_', toString(a)), concat('key_', toString(a)), concat('app-', toString(a % 300)),
             ['programming','roleplay','translation','general','marketing','science'][1 + a % 6],
             ${models}[e] AS m, m, ${providers}[e], ${ids}[e],
             if(rand(6) % 100 < 2, 502, 200), if(rand(6) % 100 < 2, 'upstream_5xx', 'none'),
             200 + rand(7) % 5000, 100 + rand(8) % 1500, 100 + rand(9) % 4000, 20 + rand(10) % 800,
             (100 + rand(9) % 4000) * 0.000001, (100 + rand(9) % 4000) * 0.000000055, rand(11) % 3 = 0, 0, 1
        FROM (SELECT number, rand(2) % 20000 AS a, if(rand(12) % 10 < 7, 0, 1 + rand(13) % 2) AS k,
                     1 + toUInt32(pow((cityHash64(a, k) % 10000) / 10000, 2) * ${endpoints.length}) AS e
                FROM numbers(${n}))`,
  });
  process.stderr.write(`generated ${Math.min(ROWS, done + n).toLocaleString('en')} of ${ROWS.toLocaleString('en')} rows (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}
const genSeconds = (Date.now() - t0) / 1000;

// Sixty days inserted in minutes leave each aggregate in many unmerged parts (every insert block spans all
// sixty days); a table that grew over sixty days has long been merged in the background. --settle (the
// default) merges them now, as time would; --no-settle measures the state right after the bulk insert.
const AGGREGATES = ['usage_hourly', 'usage_daily_model', 'usage_daily_account', 'endpoint_minute', 'app_daily', 'app_hourly', 'account_week_model', 'app_model_daily'];
const partsAndRows = async () =>
  (
    await queryRows<{ table: string; parts: string; rows: string }>(
      ch,
      'SELECT table, count() AS parts, sum(rows) AS rows FROM system.parts WHERE active AND database = currentDatabase() AND table IN {t:Array(String)} GROUP BY table ORDER BY table',
      { t: AGGREGATES },
    )
  )
    .map((r) => `${r.table} ${Number(r.rows).toLocaleString('en')} rows in ${r.parts} parts`)
    .join('; ');
console.log(`aggregates after the bulk insert: ${await partsAndRows()}`);
let settleSeconds = 0;
if (values.settle && values.reuse === undefined) {
  const s0 = Date.now();
  for (const t of AGGREGATES) await ch.command({ query: `OPTIMIZE TABLE ${t} FINAL` });
  settleSeconds = (Date.now() - s0) / 1000;
  console.log(`settled (OPTIMIZE … FINAL) in ${settleSeconds.toFixed(0)} s: ${await partsAndRows()}`);
}

const keys = new KeyStore();
const KEY = 'bench-queries-key-0123456789';
keys.addEphemeral(KEY, 'bench', 'acct_42');
// Public figures are served from memory and recomputed every PUBLIC_REFRESH_S: `app` as deployed (what a
// caller waits for: its default views computed ahead, as a process starting on recorded traffic does),
// `fresh` with every refresh period 0 (what each recomputation costs).
const appWith = (refreshS: number, warmup?: Warmup) =>
  buildApp({
    logger: createLogger('silent'),
    metrics: new Metrics(),
    bodyLimitBytes: 1 << 20,
    keys,
    catalog,
    appMinUsers: 5,
    defaultRateLimitPerMinute: 600,
    preferenceRefreshS: refreshS === 0 ? 0 : 300,
    publicRefreshS: refreshS,
    clickhouse: ch,
    warmup,
    ops: { ready: () => ({ ready: true }) },
  });
const warmup = new Warmup();
const app = await appWith(30, warmup);
const fresh = await appWith(0);
const w0 = performance.now();
await warmup.run();
const aheadSeconds = (performance.now() - w0) / 1000;

let baseline = 0;
/** Timed runs after three warm-up calls; an endpoint whose first run takes over 10 s is reported from that one run. */
async function time(name: string, f: () => Promise<number>): Promise<{ name: string; p50: number; p95: number }> {
  const first = performance.now();
  if ((await f()) !== 200) throw new Error(`${name}: failed`);
  const firstMs = performance.now() - first;
  const runs = firstMs > 10_000 ? 0 : RUNS;
  if (runs > 0) for (let i = 0; i < 2; i++) await f();
  const t: number[] = runs === 0 ? [firstMs] : [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const status = await f();
    if (status !== 200) throw new Error(`${name}: status ${status}`);
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  const r = { name, p50: t[Math.floor(t.length * 0.5)], p95: t[Math.min(t.length - 1, Math.floor(t.length * 0.95))] };
  baseline ||= r.p50;
  console.log(
    `${r.name.padEnd(38)} p50 ${r.p50.toFixed(1).padStart(8)} ms  p95 ${r.p95.toFixed(1).padStart(8)} ms  (p50 ${(r.p50 / baseline).toFixed(1)}× baseline)${runs === 0 ? '  [one run: over 10 s]' : ''}`,
  );
  return r;
}
const get =
  (url: string, auth = false, on = app) =>
  async () =>
    (await on.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${KEY}` } : {} })).statusCode;
const PUBLIC: [string, string][] = [
  ['rankings day', '/api/v1/rankings?period=day'],
  ['rankings week', '/api/v1/rankings?period=week'],
  ['rankings week, 15 (the page)', '/api/v1/rankings?period=week&limit=15'],
  ['rankings month', '/api/v1/rankings?period=month'],
  ['rankings month programming', '/api/v1/rankings?period=month&category=programming'],
  ['model stats', '/api/v1/models/openai/gpt-4o-mini/stats'],
  ['preference month', '/api/v1/rankings/preference?period=month'],
  ['preference quarter programming', '/api/v1/rankings/preference?period=quarter&category=programming'],
];
const line = (name: string, t: number[]) => {
  t.sort((a, b) => a - b);
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(t.length * p))];
  console.log(
    `${name.padEnd(44)} p50 ${q(0.5).toFixed(1).padStart(8)} ms  p95 ${q(0.95).toFixed(1).padStart(8)} ms  max ${q(1).toFixed(1).padStart(8)} ms  (${t.length} calls; p95 ${(q(0.95) / baseline).toFixed(1)}× baseline p50)`,
  );
  return { name, p50: q(0.5), p95: q(0.95) };
};

console.log(
  `queries  ${new Date().toISOString()}  ${values.reuse ? `raw rows of an earlier run reused (${dir})` : `${ROWS.toLocaleString('en')} raw rows generated in ${genSeconds.toFixed(0)} s`}${values.settle ? `, aggregates settled in ${settleSeconds.toFixed(0)} s` : ', aggregates as inserted'}; public default views computed ahead in ${aheadSeconds.toFixed(0)} s`,
);

// Served: what callers get from a process as deployed, under a steady stream of callers spread over the
// public views (open loop: a call every 1/rps seconds whatever the previous ones do), for long enough that
// every view's cached result goes stale and is recomputed in the background while being served; the first
// call of each view is counted too.
const baselineRun = await time('baseline SELECT 1', async () => ((await queryRows(ch, 'SELECT 1 AS x')).length === 1 ? 200 : 500));
console.log(`served: ${LOAD_S} s at ${LOAD_RPS} calls/s across the public views`);
const served = new Map<string, number[]>(PUBLIC.map(([name]) => [name, []]));
const calls: Promise<void>[] = [];
const l0 = performance.now();
for (let i = 0; i < LOAD_S * LOAD_RPS; i++) {
  const wait = l0 + (i * 1000) / LOAD_RPS - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const [name, url] = PUBLIC[i % PUBLIC.length];
  calls.push(
    (async () => {
      const s0 = performance.now();
      const status = await get(url)();
      if (status !== 200) throw new Error(`${name}: status ${status}`);
      served.get(name)!.push(performance.now() - s0);
    })(),
  );
}
await Promise.all(calls);
const results = [baselineRun, ...PUBLIC.map(([name]) => line(`${name} (served)`, served.get(name)!))];

// Computed: what each recomputation costs (refresh periods 0), and the private endpoints, which are not cached.
console.log(`computed and private: ${RUNS} runs each after 3 warm-up`);
for (const [name, url] of PUBLIC) results.push(await time(`${name} (computed)`, get(url, false, fresh)));
results.push(
  await time('usage by day (30 d)', get('/api/v1/usage?group_by=day', true)),
  await time('usage by model (1 y)', get(`/api/v1/usage?group_by=model&from=${new Date(Date.now() - 365 * 86400000).toISOString().slice(0, 10)}`, true)),
  await time('activity', get('/api/v1/activity', true)),
  await time('key', get('/api/v1/key', true)),
);
if (results.length === 0) throw new Error('nothing measured');
await app.close();
await fresh.close();
await closeClickHouse(ch, true);
