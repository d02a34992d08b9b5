// The telemetry queue is bounded: when ingest cannot keep up, events past the limit are dropped and
// counted, and requests are served exactly as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, startTestService } from '../helpers/service.ts';

let s: Service;
beforeAll(async () => {
  // A tiny queue and a writer that waits a minute between inserts: the queue must overflow.
  s = await startTestService({ TELEMETRY_QUEUE_MAX: '100', TELEMETRY_FLUSH_MS: '60000', TELEMETRY_BATCH_MAX: '1000000' });
});
afterAll(async () => s?.close());

describe('telemetry back-pressure', () => {
  it('requests succeed while the full queue drops events, and every drop shows in /metrics', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('openai/gpt-4o-mini')) });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.every((x) => x === 200)).toBe(true);
    expect(s.bus.waiting).toBe(100);
    expect(s.bus.dropped).toBe(160 - 100); // two events (attempt + request) per request
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_telemetry_dropped_total 60$/m);
    expect(metrics).toMatch(/^switchboard_telemetry_queue_depth 100$/m);
  });
});
