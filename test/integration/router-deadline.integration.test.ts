// The router's own request deadline is the router's doing: the client hears 408 without a provider named,
// and the provider that was still answering keeps a clean record (breaker, attempts, per-minute uptime).
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../store/clickhouse.ts';
import { auth, chatBody, DEV_KEY, flushTelemetry, startTestService } from '../helpers/service.ts';

describe("the router's own deadline", () => {
  it('answers 408 and is never counted against the provider that was still answering', async () => {
    const slow = 'qwen/qwen-2.5-72b-instruct';
    const local = await startTestService({ ROUTER_REQUEST_DEADLINE_MS: '300', BREAKER_CONSECUTIVE_FAILURES: '3' });
    try {
      for (const e of local.catalog.model(slow)!.endpoints) local.simulator!.faults.set({ provider: e.provider, model: slow, mode: 'hang' });
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${local.url}/v1/chat/completions`, { method: 'POST', headers: auth(DEV_KEY), body: JSON.stringify(chatBody(slow)) });
        expect(res.status).toBe(408);
        const err = ((await res.json()) as { error: { code: string; provider?: string } }).error;
        expect(err.code).toBe('request_timeout');
        expect(err.provider).toBeUndefined();
      }
      for (const e of local.catalog.model(slow)!.endpoints) expect(local.health.get(e).breaker.state()).toBe('closed');
      await flushTelemetry(local);
      const rows = await queryRows<{ c: string; n: string }>(local.clickhouse!, `SELECT error_class AS c, count() AS n FROM attempts WHERE model = {m:String} GROUP BY c`, {
        m: slow,
      });
      expect(rows.map((r) => r.c)).toEqual(['deadline']);
      const [minute] = await queryRows<{ failures: string }>(local.clickhouse!, 'SELECT sum(failures) AS failures FROM endpoint_minute WHERE model = {m:String}', { m: slow });
      expect(Number(minute.failures)).toBe(0);
    } finally {
      await local.close();
    }
  });
});
