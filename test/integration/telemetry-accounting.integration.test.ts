// Requests through the router land in ClickHouse (chDB) exactly once, with the tokens and cost the client
// saw, and without any prompt or completion text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../store/clickhouse.ts';
import type { Service } from '../../service/server.ts';
import { requestEvent } from '../fixtures/events.ts';
import { auth, chatBody, flushTelemetry, sseData, startTestService } from '../helpers/service.ts';

let s: Service;
beforeAll(async () => {
  s = await startTestService();
});
afterAll(async () => s?.close());

const SECRET = 'zebra-marmalade-7781';
const MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4.5', 'deepseek/deepseek-chat', 'meta-llama/llama-3.1-8b-instruct'];

describe('telemetry accounting', () => {
  it('N requests give N request rows and one attempt row each, with the tokens and cost the clients saw', async () => {
    const seen = new Map<string, { prompt: number; completion: number; cost: number; fee: number }>();
    const jobs = Array.from({ length: 60 }, async (_, i) => {
      const stream = i % 3 === 0;
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth(), 'x-title': 'accounting-test' },
        body: JSON.stringify({ ...chatBody(MODELS[i % MODELS.length], { stream, max_tokens: 8 + i }), messages: [{ role: 'user', content: `${SECRET} request ${i}` }] }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      const usage = stream ? JSON.parse(sseData(text).slice(-2)[0]).usage : JSON.parse(text).usage;
      // What the key is charged is the provider's price and the fee, each stored on its own.
      expect(usage.cost).toBe(Math.round((usage.cost_details.upstream_inference_cost + usage.cost_details.platform_fee) * 1e9) / 1e9);
      seen.set(res.headers.get('x-switchboard-generation-id')!, {
        prompt: usage.prompt_tokens,
        completion: usage.completion_tokens,
        cost: usage.cost_details.upstream_inference_cost,
        fee: usage.cost_details.platform_fee,
      });
    });
    await Promise.all(jobs);
    await flushTelemetry(s);

    const ids = [...seen.keys()];
    const rows = await queryRows<{ generation_id: string; tokens_prompt: number; tokens_completion: number; cost_usd: number; fee_usd: number; app: string }>(
      s.clickhouse!,
      'SELECT generation_id, tokens_prompt, tokens_completion, cost_usd, fee_usd, app FROM requests WHERE generation_id IN {ids:Array(String)}',
      { ids },
    );
    expect(rows).toHaveLength(60);
    for (const r of rows) {
      const c = seen.get(r.generation_id)!;
      expect([r.tokens_prompt, r.tokens_completion]).toEqual([c.prompt, c.completion]);
      expect(r.cost_usd).toBe(c.cost);
      expect(r.fee_usd).toBe(c.fee);
      expect(r.app).toBe('accounting-test');
    }
    const [attempts] = await queryRows<{ n: string; distinct_gen: string }>(
      s.clickhouse!,
      'SELECT count() AS n, uniqExact(generation_id) AS distinct_gen FROM attempts WHERE generation_id IN {ids:Array(String)}',
      { ids },
    );
    expect(Number(attempts.n)).toBe(60);
    expect(Number(attempts.distinct_gen)).toBe(60);
    const [sums] = await queryRows<{ cost: number; completion: string }>(
      s.clickhouse!,
      'SELECT sum(cost_usd) AS cost, sum(tokens_completion) AS completion FROM requests WHERE generation_id IN {ids:Array(String)}',
      { ids },
    );
    const clientCost = [...seen.values()].reduce((a, c) => a + c.cost, 0);
    expect(sums.cost).toBeCloseTo(clientCost, 12);
    expect(Number(sums.completion)).toBe([...seen.values()].reduce((a, c) => a + c.completion, 0));
  });

  it('stores no prompt or completion text anywhere', async () => {
    for (const table of ['requests', 'attempts']) {
      const [hit] = await queryRows<{ n: string }>(
        s.clickhouse!,
        `SELECT count() AS n FROM ${table} WHERE position(toString(tuple(*)), {needle:String}) > 0 OR position(toString(tuple(*)), 'Sure') > 0`,
        { needle: SECRET },
      );
      expect(Number(hit.n)).toBe(0);
    }
    const columns = await queryRows<{ name: string }>(s.clickhouse!, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table IN ('requests','attempts')");
    expect(columns.map((c) => c.name).filter((n) => /^(prompt|completion)$|content|message|text/.test(n))).toEqual([]);
  });

  it('a failed request is recorded too, with its error class and no charge', async () => {
    s.simulator!.faults.set({ provider: 'openai', model: 'openai/gpt-4o', mode: 'error', status: 500 });
    s.simulator!.faults.set({ provider: 'azure', model: 'openai/gpt-4o', mode: 'error', status: 500 });
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('openai/gpt-4o')) });
    expect(res.status).toBe(502);
    const id = res.headers.get('x-switchboard-generation-id')!;
    await flushTelemetry(s);
    const [row] = await queryRows<{ status: number; error_class: string; cost_usd: number; attempts: number }>(
      s.clickhouse!,
      'SELECT status, error_class, cost_usd, attempts FROM requests WHERE generation_id = {id:String}',
      { id },
    );
    expect(row).toEqual({ status: 502, error_class: 'upstream_5xx', cost_usd: 0, attempts: 2 });
    s.simulator!.faults.clear();
  });

  it('an event that breaks the contract is refused before ClickHouse, counted by field, and the valid ones beside it are written', async () => {
    const now = Date.now();
    const good = requestEvent({ ts: now, generation_id: `gen-good-${now}` });
    const nan = requestEvent({ ts: now, generation_id: `gen-nan-${now}`, tokens_prompt: Number.NaN });
    const negative = requestEvent({ ts: now, generation_id: `gen-neg-${now}`, latency_ms: -5 });
    const droppedBefore = s.ingest!.dropped;
    for (const e of [nan, good, negative]) s.bus.emit(e);
    await flushTelemetry(s);

    const ids = [good, nan, negative].map((e) => e.generation_id);
    const rows = await queryRows<{ generation_id: string }>(s.clickhouse!, 'SELECT generation_id FROM requests WHERE generation_id IN {ids:Array(String)}', { ids });
    expect(rows.map((r) => r.generation_id)).toEqual([good.generation_id]);
    expect(s.ingest!.dropped - droppedBefore).toBe(2);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_telemetry_invalid_total\{reason="\/tokens_prompt"\} 1$/m);
    expect(metrics).toMatch(/^switchboard_telemetry_invalid_total\{reason="\/latency_ms"\} 1$/m);
  });
});
