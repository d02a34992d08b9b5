// SIGKILL of the compiled service during steady traffic: after a restart on the same data directory, every
// request that was answered before the kill is recorded exactly once (its telemetry was in the local log
// before its answer's last byte), and the spend ledger counts it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeClickHouse, openClickHouse, queryRows } from '../../store/clickhouse.ts';
import { startServiceProcess, stopProcess, type Child } from '../helpers/process.ts';
import { chatBody, eventually } from '../helpers/service.ts';

const KEY = 'e2e-crash-key-0123456789abcdef';
const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
const env = { DATA_DIR: dataDir, SWITCHBOARD_DEV_KEY: KEY, SIMULATOR_LATENCY_SCALE: '0.05', DEMO: 'off', RATE_LIMIT_PER_MINUTE: '1000000' };
let service: Child | undefined;
afterAll(async () => {
  if (service) await stopProcess(service);
});

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

describe('a killed service', () => {
  it('loses no answered request: each is recorded once after the restart', async () => {
    service = await startServiceProcess(undefined, env);
    const url = service.url;
    const answered: string[] = [];
    let sent = 0;
    let running = true;
    const workers = Array.from({ length: 6 }, async (_, w) => {
      while (running) {
        sent++;
        try {
          const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(chatBody('mistralai/mistral-nemo', { stream: w % 2 === 0 })) });
          const text = await res.text();
          // Answered: the whole body arrived (a stream through its [DONE]).
          if (res.status === 200 && (w % 2 === 1 || text.includes('data: [DONE]'))) answered.push(res.headers.get('x-switchboard-generation-id')!);
        } catch {
          // Cut by the kill: never answered.
        }
      }
    });
    await eventually(
      async () => answered.length,
      (n) => n >= 200,
      60_000,
    );
    await stopProcess(service, 'SIGKILL');
    running = false;
    await Promise.all(workers);
    service = undefined;

    service = await startServiceProcess(undefined, env);
    // The restarted service reads the killed one's log from where ClickHouse held it.
    await eventually(
      async () =>
        (await Promise.all(answered.slice(-20).map(async (id) => (await fetch(`${service!.url}/api/v1/generation?id=${id}`, { headers })).status))).every((s) => s === 200),
      (ok) => ok,
      60_000,
    );
    // Killed again rather than stopped: what the restart wrote is in ClickHouse once each insert returned,
    // and this test is about kills (a stop during the computation ahead: stop-while-computing.e2e).
    await stopProcess(service, 'SIGKILL');
    service = undefined;

    const ch = await openClickHouse({ url: undefined, dataDir });
    try {
      const rows = await queryRows<{ id: string; n: string }>(ch, 'SELECT generation_id AS id, count() AS n FROM requests WHERE generation_id IN {ids:Array(String)} GROUP BY id', {
        ids: answered,
      });
      console.log(`answered before the kill: ${answered.length} of ${sent} sent; recorded: ${rows.length}`);
      expect(rows.length).toBe(answered.length);
      expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
      const [dupes] = await queryRows<{ n: string }>(ch, 'SELECT count() AS n FROM (SELECT event_id FROM attempts GROUP BY event_id HAVING count() > 1)');
      expect(Number(dupes.n)).toBe(0);
    } finally {
      await closeClickHouse(ch, true);
    }
  }, 240_000);
});
