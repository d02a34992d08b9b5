// Spend limits under `npm start`'s supervisor: two routers share a key's spend through the supervisor's
// hub, a router started again after a SIGKILL refuses the key from its first request, and so does the
// whole service after a restart (its data process counts the spend ClickHouse holds before any router
// serves).
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killChild, killSupervisor, restartedAfter, startServiceProcess, stopProcess, type Child } from '../helpers/process.ts';
import { chatBody, eventually } from '../helpers/service.ts';

const KEY = 'sk-sb-v1-supervised-spend-key-0123456789';
const LIMIT = 0.0001;
const dir = mkdtempSync(join(tmpdir(), 'switchboard-sup-spend-'));
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify({ keys: [{ name: 'limited', sha256: createHash('sha256').update(KEY).digest('hex'), account: 'acct_limited', spendLimitUsd: LIMIT }] }));
const env = { DATA_DIR: join(dir, 'data'), SWITCHBOARD_CONFIG: configFile, SIMULATOR_LATENCY_SCALE: '0', DEMO: 'off', RATE_LIMIT_PER_MINUTE: '1000000', ROUTER_WORKERS: '2' };

let service: Child | undefined;
afterAll(async () => {
  if (service) await stopProcess(service);
});

const body = JSON.stringify(chatBody('openai/gpt-4o-mini', { max_tokens: 64 }));

/** One request on a connection of its own, so the port's routers take turns. */
function status(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${service!.url}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const statuses = async (n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await status());
  return out;
};

describe('spend limits under the supervisor', () => {
  it('hold across its routers, a killed router and restarts of the whole service', async () => {
    service = await startServiceProcess(undefined, env);
    let n = 0;
    while ((await status()) === 200) expect(++n).toBeLessThan(500);
    expect(n).toBeGreaterThan(1);
    // Within one publish interval both routers know what the other spent.
    await eventually(
      () => statuses(10),
      (s) => s.every((c) => c === 402),
      15_000,
    );

    const router = killChild(service, 'router');
    await restartedAfter(service, router, 'router', 2);
    // The new router had the fleet's figures before it served: refused from its first request on.
    expect(await statuses(10)).toEqual(Array(10).fill(402));

    await stopProcess(service);
    service = await startServiceProcess(undefined, env);
    expect(await statuses(10)).toEqual(Array(10).fill(402));

    // Its processes stop once they lose the supervisor, and free the data directory.
    await killSupervisor(service);
    service = await startServiceProcess(undefined, env);
    expect(await statuses(10)).toEqual(Array(10).fill(402));
  }, 300_000);
});
