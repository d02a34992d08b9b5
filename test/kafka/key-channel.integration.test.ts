// Keys in cluster mode: the data role's key authority publishes every change on the compacted topic
// switchboard.keys.v1; two routers reading it serve a key created over the management API within a second
// of the answer and refuse it within a second of its revocation, and a router started afterwards knows
// both the organisation's policy and the revocation before its first request.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyFile } from '../../governance/key-file.ts';
import type { Service } from '../../service/server.ts';
import { kafkaOrSkip, ownTopicsEnv, testPrefix } from '../helpers/kafka.ts';
import { auth, chatBody, eventually, startTestService } from '../helpers/service.ts';

const { brokers } = kafkaOrSkip();
const env = { ...ownTopicsEnv(brokers, testPrefix('keys')), RATE_LIMIT_PER_MINUTE: '1000000' };
/** The bound the design states for a key change to reach every router. */
const PROPAGATION_BOUND_MS = 1000;

const services: Service[] = [];
afterAll(async () => {
  for (const s of services.reverse()) await s.close();
});

const chat = async (r: Service, key: string, model = 'openai/gpt-4o-mini') => {
  const res = await fetch(`${r.url}/v1/chat/completions`, { method: 'POST', headers: auth(key), body: JSON.stringify(chatBody(model)) });
  await res.arrayBuffer();
  return res.status;
};

/** How long after `since` every router answered `status` for the key. */
async function allAnswer(routers: Service[], key: string, status: number, since: number): Promise<number> {
  await eventually(
    () => Promise.all(routers.map((r) => chat(r, key))),
    (s) => s.every((c) => c === status),
    15_000,
  );
  return Date.now() - since;
}

describe.skipIf(!brokers)('the key channel', () => {
  it('hands key changes and policies to every router within a second, and to routers started later', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-keys-data-'));
    const admin = new KeyFile(join(dataDir, 'keys.json')).create({ name: 'admin', orgId: 'acme', management: true }).secret;
    const data = await startTestService({ ...env, DATA_DIR: dataDir }, undefined, 'data');
    services.push(data);
    const routers = [await startTestService(env, undefined, 'router'), await startTestService(env, undefined, 'router')];
    services.push(...routers);
    const manage = (method: string, path: string, body?: unknown) =>
      fetch(`${data.url}${path}`, { method, headers: auth(admin), body: body === undefined ? undefined : JSON.stringify(body) });

    const created = await manage('POST', '/api/v1/keys', { name: 'fleet-key' });
    const answeredAt = Date.now();
    expect(created.status).toBe(201);
    const { key, data: view } = (await created.json()) as { key: string; data: { hash: string } };
    expect(await allAnswer(routers, key, 200, answeredAt)).toBeLessThanOrEqual(PROPAGATION_BOUND_MS);
    // The management key is refused by the routers too: they know what kind of key it is.
    expect(await chat(routers[0], admin)).toBe(403);

    expect((await manage('PUT', '/api/v1/organization/policy', { policy: { models: { deny: ['openai/gpt-4o'] } } })).status).toBe(200);
    await eventually(
      () => Promise.all(routers.map((r) => chat(r, key, 'openai/gpt-4o'))),
      (s) => s.every((c) => c === 403),
      15_000,
    );

    const revoked = await manage('DELETE', `/api/v1/keys/${view.hash}`);
    const revokedAt = Date.now();
    expect(revoked.status).toBe(200);
    expect(await allAnswer(routers, key, 401, revokedAt)).toBeLessThanOrEqual(PROPAGATION_BOUND_MS);

    // A router started now reads the topic before it serves.
    const late = await startTestService(env, undefined, 'router');
    services.push(late);
    expect(await chat(late, key)).toBe(401);
    const other = (await (await manage('POST', '/api/v1/keys', { name: 'second' })).json()) as { key: string };
    await eventually(
      () => chat(late, other.key),
      (s) => s === 200,
      15_000,
    );
    expect(await chat(late, other.key, 'openai/gpt-4o')).toBe(403);
  }, 180_000);
});
