// A process that starts on recorded traffic computes the public figures' default views before anyone asks,
// so its first callers are answered from memory: every result below was computed before it was requested.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatePopulation } from '../../dev/population/simulate.ts';
import { CATEGORIES } from '../../router/classify.ts';
import { insertEvents } from '../../store/rows.ts';
import type { Service } from '../../service/server.ts';
import { startTestService } from '../helpers/service.ts';

const DATA_DIR = mkdtempSync(join(tmpdir(), 'switchboard-ahead-'));
let s: Service;

beforeAll(async () => {
  // An empty database: nothing to compute ahead.
  const first = await startTestService({ DATA_DIR });
  expect(await first.computedAhead).toBe(false);
  const pop = simulatePopulation({
    catalog: first.catalog,
    models: ['openai/gpt-4o-mini', 'deepseek/deepseek-chat', 'moonshotai/kimi-k2', 'qwen/qwen3-235b-a22b'],
    seed: 3,
    accounts: 200,
    days: 21,
    endMs: Date.now() - 3_600_000,
  });
  await insertEvents(first.clickhouse!, pop.events);
  await first.close();
  s = await startTestService({ DATA_DIR });
}, 120_000);
afterAll(async () => s?.close());

describe('public figures computed ahead at start', () => {
  it('answers the first call for every default view from memory, computed before it was asked for', async () => {
    expect(await s.computedAhead).toBe(true);
    const paths = [
      '/api/v1/rankings',
      ...(['day', 'week', 'month'] as const).flatMap((p) => [`/api/v1/rankings?period=${p}&limit=7`, ...CATEGORIES.map((c) => `/api/v1/rankings?period=${p}&category=${c}`)]),
      ...(['month', 'quarter', 'year'] as const).flatMap((p) => [
        `/api/v1/rankings/preference?period=${p}`,
        ...CATEGORIES.map((c) => `/api/v1/rankings/preference?period=${p}&category=${c}`),
      ]),
      '/api/v1/models/deepseek/deepseek-chat/stats',
      '/api/v1/models/anthropic/claude-sonnet-4.5/stats',
    ];
    for (const path of paths) {
      const asked = Date.now();
      const res = await fetch(`${s.url}${path}`);
      expect(res.status, path).toBe(200);
      const body = (await res.json()) as { computed_at: string; models?: unknown[] };
      expect(Date.parse(body.computed_at), path).toBeLessThan(asked);
    }
    const week = (await (await fetch(`${s.url}/api/v1/rankings?period=week&limit=2`)).json()) as { models: unknown[]; other: { models: number } };
    expect(week.models).toHaveLength(2);
    expect(week.other.models).toBe(2);
  });
});
