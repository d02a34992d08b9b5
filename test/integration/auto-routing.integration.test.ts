// switchboard/auto end to end: analytics publishes each category's revealed-preference scores, the router
// chooses from them per request, telemetry records the choice under requested_model switchboard/auto, and
// that traffic never moves the scores it was chosen from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatePopulation } from '../../dev/population/simulate.ts';
import { insertEvents } from '../../store/rows.ts';
import { queryRows } from '../../store/clickhouse.ts';
import type { Service } from '../../service/server.ts';
import { auth, eventually, flushTelemetry, startTestService } from '../helpers/service.ts';
import { POPULATION_MODELS } from '../fixtures/population.ts';

let s: Service;
/** Answers before any traffic was recorded: auto, and a named model. */
let early: { auto: { status: number; message: string }; named: number };

beforeAll(async () => {
  s = await startTestService({ PREFERENCE_REFRESH_S: '2', RATE_LIMIT_PER_MINUTE: '100000', AUTO_EXPLORE_SHARE: '0' });
  const first = await ask({ model: 'switchboard/auto' });
  early = { auto: { status: first.status, message: ((await first.json()) as any).error?.message }, named: (await ask({ model: 'openai/gpt-4o-mini' })).status };
  const pop = simulatePopulation({ catalog: s.catalog, models: POPULATION_MODELS, seed: 5, accounts: 800, days: 42, endMs: Date.now() - 3_600_000 });
  await insertEvents(s.clickhouse!, pop.events, 100_000);
}, 300_000);
afterAll(async () => s?.close());

const ask = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...auth(), ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Write a function that reverses a list' }], max_tokens: 16, ...body }),
  });
const get = async (path: string) => (await (await fetch(`${s.url}${path}`)).json()) as any;

describe('switchboard/auto', () => {
  it('before any scores: 503 saying why, while a named model works', () => {
    expect(early.auto.status).toBe(503);
    expect(early.auto.message).toMatch(/no revealed-preference scores yet/);
    expect(early.named).toBe(200);
  });

  it('chooses from the published scores of the request category, explains itself, and records the choice', async () => {
    const res = await eventually(
      () => ask({ model: 'switchboard/auto:programming', switchboard: { explain: true } }),
      (r) => r.status === 200,
      60_000,
    );
    const body = (await res.json()) as any;
    const auto = body.routing.auto;
    expect(auto).toMatchObject({ category: 'programming', optimize: 'balanced', explored: false, scores: { from: 'category', period: 'month' } });
    expect(body.model).toBe(auto.chosen.model);
    expect(res.headers.get('x-switchboard-auto')).toBe(auto.chosen.model);
    // The scores it chose from are the public revealed preference of the category (same weeks, same method).
    const pref = await get('/api/v1/rankings/preference?period=month&category=programming');
    const published = new Map(pref.pairwise.scores.map((x: any) => [x.model, x]));
    for (const c of [auto.chosen, ...auto.passed_over.filter((p: any) => p.score !== undefined)]) {
      expect(c.score).toBeCloseTo((published.get(c.model) as any).score, 9);
    }
    // Balanced: nothing cheaper is within the best's interval.
    const best = [auto.chosen, ...auto.passed_over].filter((c: any) => c.score !== undefined).sort((a: any, b: any) => b.score - a.score)[0];
    for (const p of auto.passed_over)
      if (p.high >= best.low && p.expected_cost_usd !== undefined) expect(p.expected_cost_usd).toBeGreaterThanOrEqual(auto.chosen.expected_cost_usd);
    await flushTelemetry(s);
    const [row] = await queryRows<{ requested_model: string; served_model: string; category: string }>(
      s.clickhouse!,
      'SELECT requested_model, served_model, category FROM requests WHERE generation_id = {id:String}',
      { id: body.id },
    );
    expect(row).toEqual({ requested_model: 'switchboard/auto:programming', served_model: auto.chosen.model, category: 'programming' });
  });

  it('keeps to max_price and the other constraints, with a clear error when nothing fits', async () => {
    const r = await ask(
      { model: 'switchboard/auto', provider: { max_price: { completion: 1 } }, switchboard: { explain: true, auto: { optimize: 'preference' } } },
      { 'x-switchboard-category': 'roleplay' },
    );
    expect(r.status).toBe(200);
    const body = (await r.json()) as any;
    expect(body.routing.auto.category).toBe('roleplay');
    const served = s.catalog.model(body.model)!.endpoints.find((e) => e.provider === r.headers.get('x-switchboard-provider'))!;
    expect(served.priceCompletion).toBeLessThanOrEqual(1);
    const none = await ask({ model: 'switchboard/auto', provider: { max_price: { completion: 0.01 } } });
    expect(none.status).toBe(404);
    expect(((await none.json()) as any).error.message).toMatch(/no scored model can serve this request/);
    for (const bad of [
      { model: 'switchboard/auto:cooking' },
      { model: 'openai/gpt-4o-mini', switchboard: { auto: { optimize: 'price' } } },
      { model: 'switchboard/auto', switchboard: { auto: { optimize: 'cheapest' } } },
      { model: 'switchboard/auto', switchboard: { auto: { min_score: 'top' } } },
      { model: 'openai/gpt-4o-mini', models: ['switchboard/auto'] },
    ]) {
      const res = await ask(bad);
      expect([JSON.stringify(bad), res.status]).toEqual([JSON.stringify(bad), 400]);
    }
  });

  it('its own traffic does not move the scores it reads: auto requests are left out of revealed preference', async () => {
    const before = await queryRows<{ n: string; t: string }>(s.clickhouse!, 'SELECT count() AS n, sum(tokens) AS t FROM account_week_model');
    for (let i = 0; i < 20; i++) expect((await ask({ model: 'switchboard/auto:programming' })).status).toBe(200);
    await flushTelemetry(s);
    const [{ n }] = await queryRows<{ n: string }>(s.clickhouse!, "SELECT count() AS n FROM requests WHERE requested_model = 'switchboard/auto:programming'");
    expect(Number(n)).toBeGreaterThanOrEqual(21);
    expect(await queryRows(s.clickhouse!, 'SELECT count() AS n, sum(tokens) AS t FROM account_week_model')).toEqual(before);
  });
});
