// The optional config file: models and endpoints added to the catalog, and keys known only by hash.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, startTestService } from '../helpers/service.ts';

const KEY = 'sk-from-config-file-0123456789';
let s: Service;
beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'sb-config-')), 'switchboard.json');
  writeFileSync(
    file,
    JSON.stringify({
      models: [
        { id: 'acme/rocket-7b', name: 'Rocket 7B', endpoints: [{ provider: 'together', contextLength: 8192, maxCompletionTokens: 2048, pricePrompt: 0.05, priceCompletion: 0.1 }] },
        {
          id: 'openai/gpt-4o-mini',
          endpoints: [{ provider: 'deepinfra', contextLength: 64_000, maxCompletionTokens: 4096, pricePrompt: 0.01, priceCompletion: 0.02, supportsTools: true }],
        },
      ],
      keys: [{ name: 'from-file', sha256: createHash('sha256').update(KEY).digest('hex'), account: 'acct_file', rateLimitPerMinute: 5 }],
    }),
  );
  s = await startTestService({ SWITCHBOARD_CONFIG: file });
});
afterAll(async () => s?.close());

describe('config file', () => {
  it('adds models and endpoints to the catalog, and they are routed to', async () => {
    const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string; owned_by: string; endpoints: { provider: string }[] }[] };
    expect(models.data.find((m) => m.id === 'acme/rocket-7b')).toMatchObject({ owned_by: 'acme', endpoints: [{ provider: 'together' }] });
    expect(
      models.data
        .find((m) => m.id === 'openai/gpt-4o-mini')!
        .endpoints.map((e) => e.provider)
        .sort(),
    ).toEqual(['azure', 'deepinfra', 'openai']);
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(KEY), body: JSON.stringify(chatBody('openai/gpt-4o-mini:floor')) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchboard-provider')).toBe('deepinfra'); // the cheapest, from the file
    const rocket = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(KEY), body: JSON.stringify(chatBody('acme/rocket-7b')) });
    expect(rocket.status).toBe(200);
  });

  it('accepts keys known only by their hash, with their own limits', async () => {
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(KEY), body: JSON.stringify(chatBody('openai/gpt-4o')) });
    expect(res.headers.get('x-ratelimit-limit')).toBe('5');
  });
});
