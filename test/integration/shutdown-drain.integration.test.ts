// A stop under traffic: requests arriving during the drain get a clean 503 (or a refused connection a load
// balancer retries), and a stream still running at the drain limit ends with an error chunk and [DONE]
// and is recorded.
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { closeClickHouse, openClickHouse, queryRows } from '../../store/clickhouse.ts';
import { auth, chatBody, sseData, startTestService } from '../helpers/service.ts';

const MODEL = 'meta-llama/llama-3.1-8b-instruct';

/** A request on a connection of its own: its status and body, or the socket error's code. */
function once(url: string, body: unknown): Promise<{ status: number; body: string } | { code: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', headers: auth(), agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? 'error' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? 'error' }));
    req.end(JSON.stringify(body));
  });
}

describe('shutdown', () => {
  it('answers 503 or refuses during the drain, and cuts a stream past the limit with an error chunk that is recorded', async () => {
    const s = await startTestService({ SHUTDOWN_DRAIN_MS: '1500' });
    // Every provider of the model streams slowly: the stream outlives the drain limit.
    for (const e of s.catalog.model(MODEL)!.endpoints) s.simulator!.faults.set({ provider: e.provider, model: MODEL, mode: 'slow_stream', multiplier: 100_000 });
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody(MODEL, { stream: true, max_tokens: 50 })) });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-switchboard-generation-id')!;
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"role":"assistant"');
    const rest = (async () => {
      let text = new TextDecoder().decode(first.value);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    })();

    const closed = s.close();
    const during = await Promise.all(Array.from({ length: 5 }, () => once(s.url, chatBody('mistralai/mistral-nemo'))));
    for (const r of during) {
      if ('code' in r) expect(r.code).toBe('ECONNREFUSED');
      else {
        expect(r.status).toBe(503);
        expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'shutting_down', type: 'service_unavailable' } });
      }
    }

    const events = sseData(await rest);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((d) => JSON.parse(d));
    const cut = chunks.find((c) => c.choices?.[0]?.finish_reason === 'error');
    expect(cut.error).toMatchObject({ code: 'shutdown', type: 'service_unavailable' });
    expect(cut.error.provider).toBeUndefined();
    expect(chunks.at(-1).usage).toBeDefined();
    await closed;

    // Recorded: the stop flushed it before closing the engine.
    const ch = await openClickHouse({ url: undefined, dataDir: s.config.dataDir });
    try {
      const rows = await queryRows<{ status: number; error_class: string }>(ch, 'SELECT status, error_class FROM requests WHERE generation_id = {id:String}', { id });
      expect(rows).toEqual([{ status: 503, error_class: 'shutdown' }]);
      const [a] = await queryRows<{ failures: string }>(ch, 'SELECT sum(failures) AS failures FROM endpoint_minute WHERE model = {m:String}', { m: MODEL });
      expect(Number(a.failures)).toBe(0);
    } finally {
      await closeClickHouse(ch, true);
    }
  }, 120_000);
});
