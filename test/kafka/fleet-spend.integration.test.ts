// Spend limits across a fleet: two routers share one key's spend through the spend channel, and a router
// started later (a restart) knows what the fleet has spent before its first request.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import { kafkaOrSkip, testPrefix } from '../helpers/kafka.ts';
import { auth, chatBody, eventually, startTestService } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const prefix = testPrefix('spend');
const KEY = 'sk-sb-v1-fleet-spend-test-key-0123456789';
const LIMIT = 0.0001;
const configFile = join(mkdtempSync(join(tmpdir(), 'switchboard-spend-')), 'config.json');
writeFileSync(configFile, JSON.stringify({ keys: [{ name: 'fleet', sha256: createHash('sha256').update(KEY).digest('hex'), account: 'acct_fleet', spendLimitUsd: LIMIT }] }));
const env = { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix, SWITCHBOARD_CONFIG: configFile, RATE_LIMIT_PER_MINUTE: '1000000' };

const routers: Service[] = [];
afterAll(async () => {
  for (const r of routers) await r.close();
});

const body = chatBody('openai/gpt-4o-mini', { max_tokens: 64 });
async function status(r: Service): Promise<number> {
  const res = await fetch(`${r.url}/v1/chat/completions`, { method: 'POST', headers: auth(KEY), body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

describe.skipIf(!brokers)('spend shared by the fleet', () => {
  it('what one router spent stops the key on another, and on a router started afterwards', async () => {
    const [a, b] = [await startTestService(env, undefined, 'router'), await startTestService(env, undefined, 'router')];
    routers.push(a, b);
    const keyId = `key_${createHash('sha256').update(KEY).digest('hex').slice(0, 12)}`; // a config-file key's id

    let n = 0;
    while ((await status(a)) === 200) expect(++n).toBeLessThan(500);
    expect(n).toBeGreaterThan(1);
    const spentOnA = a.spend.own(keyId).settled;
    expect(spentOnA).toBeGreaterThanOrEqual(LIMIT);

    // B never served this key, yet refuses it once A's figures arrive.
    await eventually(
      async () => b.spend.spent(keyId),
      (usd) => usd >= spentOnA - 1e-12,
      15_000,
    );
    expect(b.spend.own(keyId).settled).toBe(0);
    expect(await status(b)).toBe(402);

    // A restart is a new router: it reads the fleet's figures before it serves anything.
    await a.close();
    routers.splice(routers.indexOf(a), 1);
    const c = await startTestService(env, undefined, 'router');
    routers.push(c);
    expect(await status(c)).toBe(402);
    expect(c.spend.spent(keyId)).toBeCloseTo(spentOnA, 12);
  }, 120_000);
});
