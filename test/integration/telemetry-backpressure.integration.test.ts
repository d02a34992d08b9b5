// Ingest that cannot keep up never holds a request back and loses nothing: the router's telemetry waits in
// its local log (on disk, not in a bounded memory queue) until ingest reads it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentsOf, writerDir } from '../../telemetry/local-log.ts';
import type { Service } from '../../service/server.ts';
import { auth, chatBody, eventually, startTestService } from '../helpers/service.ts';

let s: Service;
beforeAll(async () => {
  // Ingest reads the log once a minute: everything the requests emit must wait in the log meanwhile.
  s = await startTestService({ TELEMETRY_FLUSH_MS: '60000' });
});
afterAll(async () => s?.close());

describe('telemetry back-pressure', () => {
  it('requests succeed while ingest lags, every event waits in the log, none is dropped, all arrive', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: JSON.stringify(chatBody('openai/gpt-4o-mini')) });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.every((x) => x === 200)).toBe(true);
    expect(s.bus.dropped).toBe(0);
    expect(s.bus.waiting).toBe(0); // in the log already: the request event goes out before the answer
    const lines = segmentsOf(writerDir(s.config.dataDir, 0)).reduce((n, seg) => n + readFileSync(seg.path, 'utf8').split('\n').filter(Boolean).length, 0);
    expect(lines).toBe(160); // two events (attempt + request) per request
    s.ingest!.poll();
    await eventually(
      async () => s.ingest!.written,
      (n) => n === 160,
      30_000,
    );
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_telemetry_dropped_total 0$/m);
  });
});
