// Trust drill: one embedded service, three tenants at once — a bystander with steady traffic, a hostile
// tenant sending nested, wide and malformed bodies, and a tenant bursting against a small spend limit —
// while providers of the bystander's model fail part of the time. Prints one table row: requests driven,
// faults injected, hostile inputs tried, requests answered, events lost and duplicated (answered
// generation ids against the requests table), the spend overshoot against one request's worst case, and
// the bystander's success rate.
//   npx tsx bench/drills/trust.ts [--requests 2000] [--hostile 300] [--burst 200]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { queryRows } from '../../store/clickhouse.ts';
import { promptTokens } from '../../core/tokens.ts';
import { KeyFile } from '../../governance/key-file.ts';
import { costOf } from '../../router/events.ts';
import { auth, chatBody, flushTelemetry, startTestService, keysTaken } from '../../test/helpers/service.ts';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '2000' }, hostile: { type: 'string', default: '300' }, burst: { type: 'string', default: '200' } },
});
const N = Number(values.requests);
const MODEL = 'meta-llama/llama-3.3-70b-instruct';
const LIMIT = 0.0005;
const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-trust-'));
const s = await startTestService({ DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '10000000', SIMULATOR_LATENCY_SCALE: '0.02' });
const keys = new KeyFile(join(dataDir, 'keys.json'));
const bystander = keys.create({ name: 'bystander' });
const hostile = keys.create({ name: 'hostile' });
const burst = keys.create({ name: 'burst', spendLimitUsd: LIMIT });
await keysTaken(s, [bystander.secret, hostile.secret, burst.secret]);

// A third of the model's providers answer 500 to 30% of requests: failover must hide it from the bystander.
const faulted = s.catalog.model(MODEL)!.endpoints.slice(0, 3);
for (const e of faulted) s.simulator!.faults.set({ provider: e.provider, model: MODEL, mode: 'error', status: 500, rate: 0.3 });

const post = (key: string, body: string) => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(key), body });
const answered: string[] = [];
let bystanderOk = 0;
let served5xxToHostile = 0;
const hostileBodies = [
  () => JSON.stringify(chatBody(MODEL)).replace(/}$/, `,"x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`),
  () => JSON.stringify({ ...chatBody(MODEL), x: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 1])) }),
  () => `{"model":"${MODEL}","messages":[{"role":"user","content":`,
  () => JSON.stringify({ ...chatBody(MODEL), max_tokens: -1 }),
];

const t0 = performance.now();
const steady = (async () => {
  for (let i = 0; i < N; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, N - i) }, async () => {
        const res = await post(bystander.secret, JSON.stringify(chatBody(MODEL, { stream: i % 3 === 0 })));
        await res.arrayBuffer();
        if (res.status === 200) {
          bystanderOk++;
          answered.push(res.headers.get('x-switchboard-generation-id')!);
        }
      }),
    );
  }
})();
const attacks = (async () => {
  for (let i = 0; i < Number(values.hostile); i++) {
    const res = await post(hostile.secret, hostileBodies[i % hostileBodies.length]());
    await res.arrayBuffer();
    if (res.status >= 500) served5xxToHostile++;
  }
})();
const burstBody = chatBody('openai/gpt-4o-mini', { max_tokens: 64 });
const bursting = Promise.all(
  Array.from({ length: Number(values.burst) }, async () => {
    const res = await post(burst.secret, JSON.stringify(burstBody));
    await res.arrayBuffer();
    if (res.status === 200) answered.push(res.headers.get('x-switchboard-generation-id')!);
  }),
);
await Promise.all([steady, attacks, bursting]);
const seconds = (performance.now() - t0) / 1000;
await flushTelemetry(s);

const rows = await queryRows<{ id: string; n: string }>(
  s.clickhouse!,
  'SELECT generation_id AS id, count() AS n FROM requests WHERE generation_id IN {ids:Array(String)} GROUP BY id',
  { ids: answered },
);
const lost = answered.length - rows.length;
const duplicated = rows.filter((r) => Number(r.n) > 1).length;
const [spent] = await queryRows<{ usd: number }>(s.clickhouse!, 'SELECT sum(cost_usd + fee_usd) AS usd FROM requests WHERE key_id = {k:String}', { k: burst.record.id });
const worst = Math.max(...s.catalog.model('openai/gpt-4o-mini')!.endpoints.map((e) => costOf(e, promptTokens(burstBody.messages), 64))) * (1 + s.config.platformFeeRate);
const overshoot = Math.max(0, Number(spent.usd) - LIMIT);
await s.close();

console.log(`${seconds.toFixed(1)} s`);
console.log(
  '| requests driven | faults injected | hostile inputs | answered | events lost | duplicated | spend overshoot (worst case of one) | bystander success | 5xx to hostile |',
);
console.log(
  `| ${N + Number(values.hostile) + Number(values.burst)} | 500 on 30% at ${faulted.length} providers | ${values.hostile} | ${answered.length} | ${lost} | ${duplicated} | $${overshoot.toFixed(7)} (${worst.toFixed(7)}) | ${((bystanderOk / N) * 100).toFixed(2)}% | ${served5xxToHostile} |`,
);
process.exit(lost === 0 && duplicated === 0 && overshoot <= worst && served5xxToHostile === 0 ? 0 : 1);
