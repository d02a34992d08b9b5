// Keys under `npm start`'s supervisor: a management key from the key file creates a key over HTTP and both
// routers serve it within a second of the answer; a revocation stops it on both routers within a second,
// and a router started again after a SIGKILL refuses it from its first request.
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyFile } from '../../governance/key-file.ts';
import { killChild, restartedAfter, startServiceProcess, stopProcess, type Child } from '../helpers/process.ts';
import { chatBody, eventually } from '../helpers/service.ts';

const dataDir = join(mkdtempSync(join(tmpdir(), 'switchboard-sup-keys-')), 'data');
const admin = new KeyFile(join(dataDir, 'keys.json')).create({ name: 'admin', orgId: 'acme', management: true }).secret;
const env = { DATA_DIR: dataDir, SIMULATOR_LATENCY_SCALE: '0', DEMO: 'off', RATE_LIMIT_PER_MINUTE: '1000000', ROUTER_WORKERS: '2' };
/** The bound the design states for a key change to reach every router. */
const PROPAGATION_BOUND_MS = 1000;

let service: Child | undefined;
afterAll(async () => {
  if (service) await stopProcess(service);
});

/** One request on a connection of its own: the supervisor hands connections to its routers in turn. */
function send(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${service!.url}${path}`, {
      method,
      agent: false,
      headers: { authorization: `Bearer ${key}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const chatStatuses = async (key: string, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send('POST', '/v1/chat/completions', key, chatBody('openai/gpt-4o-mini'))).status);
  return out;
};

/** How long after `since` every one of a round of requests (both routers, in turn) answered `status`. */
async function allAnswer(key: string, status: number, since: number): Promise<number> {
  await eventually(
    () => chatStatuses(key, 6),
    (s) => s.every((c) => c === status),
    15_000,
  );
  return Date.now() - since;
}

describe('keys under the supervisor', () => {
  it('reach both routers within a second of the answer, revocations included, and a restarted router knows them', async () => {
    service = await startServiceProcess(undefined, env);
    await eventually(
      async () => (await send('GET', '/api/v1/keys', admin)).status,
      (s) => s === 200,
    );
    const created = await send('POST', '/api/v1/keys', admin, { name: 'fleet-key' });
    const answeredAt = Date.now();
    expect(created.status).toBe(201);
    const { key, data } = JSON.parse(created.text) as { key: string; data: { hash: string } };
    expect(await allAnswer(key, 200, answeredAt)).toBeLessThanOrEqual(PROPAGATION_BOUND_MS);

    const revoked = await send('DELETE', `/api/v1/keys/${data.hash}`, admin);
    const revokedAt = Date.now();
    expect(revoked.status).toBe(200);
    expect(await allAnswer(key, 401, revokedAt)).toBeLessThanOrEqual(PROPAGATION_BOUND_MS);

    const router = killChild(service, 'router');
    await restartedAfter(service, router, 'router', 2);
    expect(await chatStatuses(key, 6)).toEqual(Array(6).fill(401));
    const other = JSON.parse((await send('POST', '/api/v1/keys', admin, { name: 'after-restart' })).text) as { key: string };
    expect(await chatStatuses(other.key, 6)).toEqual(Array(6).fill(200));
  }, 300_000);
});
