// The HTTP server's own edges: clients that drip or never finish, answers given before a body was read,
// malformed HTTP, operator routes behind a token, a corrupt key file, and the data directory's mode.
import { statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFile } from '../../governance/key-file.ts';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, startTestService, eventually, keysTaken } from '../helpers/service.ts';

const OPS_TOKEN = 'ops-token-0123456789abcdef';
let s: Service;
beforeAll(async () => {
  s = await startTestService({ HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_HEADERS_TIMEOUT_MS: '1500', OPS_TOKEN });
});
afterAll(async () => s?.close());

/** Writes `head` (and `drip` one byte a second) on a raw connection; resolves with all it read once the server closes it. */
function raw(head: string, opts: { drip?: boolean; limitMs?: number } = {}): Promise<{ text: string; closedAfterMs: number }> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    let drip: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${opts.limitMs} ms; read so far: ${text}`));
    }, opts.limitMs ?? 60_000);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(limit);
      resolve({ text, closedAfterMs: Date.now() - t0 });
    });
    socket.write(head, 'latin1');
    if (opts.drip) drip = setInterval(() => socket.writable && socket.write('x'), 1000);
  });
}

const errorOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string; type: string; message: string } };

describe('slow and broken clients', () => {
  it('a body dripped one byte a second is cut at the request timeout with a 408', async () => {
    const { text } = await raw(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auth().authorization.slice(7)}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
      { drip: true, limitMs: 60_000 },
    );
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(errorOf(text).error).toMatchObject({ code: 'request_timeout', type: 'invalid_request_error' });
  });

  it('headers never finished are cut too', async () => {
    const { text } = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', { drip: true, limitMs: 60_000 });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a 401 given before the body arrived closes the connection instead of reading on', async () => {
    const { text } = await raw(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"model":',
      { drip: true, limitMs: 30_000 },
    );
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(errorOf(text).error.type).toBe('authentication_error');
  });

  it('oversized headers, bad header bytes and malformed URLs get the API error shape', async () => {
    const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(errorOf(big.text).error.code).toBe('headers_too_large');
    const bytes = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\x01: 1\r\n\r\n');
    expect(bytes.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(errorOf(bytes.text).error.type).toBe('invalid_request_error');
    const url = await raw('GET /he llo HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(url.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(errorOf(url.text).error.type).toBe('invalid_request_error');
  });
});

describe('operator routes', () => {
  it('/metrics, /docs and /openapi.json need the operator token when one is set', async () => {
    for (const path of ['/metrics', '/docs', '/openapi.json']) {
      expect((await fetch(`${s.url}${path}`)).status).toBe(401);
      expect((await fetch(`${s.url}${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      expect((await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })).status).toBe(200);
    }
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });
});

describe('the data directory', () => {
  it('is created readable by the service user only', () => {
    expect(statSync(s.config.dataDir).mode & 0o777).toBe(0o700);
  });

  it('a key file that turns corrupt is reported, and the keys loaded before stay in force', async () => {
    const file = join(s.config.dataDir, 'keys.json');
    const { secret } = new KeyFile(file).create({ name: 'before-corruption' });
    await keysTaken(s, [secret]);
    const ask = () => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(secret), body: JSON.stringify(chatBody('mistralai/mistral-nemo')) });
    expect((await ask()).status).toBe(200);
    writeFileSync(file, '{"keys": [ {"oops"');
    await eventually(
      async () => s.authority?.fileError,
      (e) => e !== undefined,
    );
    expect(s.authority?.fileError).toMatch(/cannot read key file .*keys\.json/);
    expect((await ask()).status).toBe(200);
    expect(() => new KeyFile(file).read()).toThrow(/cannot read key file/);
  });
});
