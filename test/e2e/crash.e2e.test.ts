// Crash drills on the compiled service as `npm start` runs it (a supervisor, two routers, a data process),
// during steady traffic: SIGKILL a router, then the data process, then the supervisor itself. Every
// request answered before, between and after the kills is recorded exactly once (its telemetry was in its
// router's local log before its answer's last byte), and usage counts it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeClickHouse, openClickHouse, queryRows } from '../../store/clickhouse.ts';
import { killChild, killSupervisor, restartedAfter, startServiceProcess, stopProcess, type Child } from '../helpers/process.ts';
import { chatBody, eventually } from '../helpers/service.ts';

const KEY = 'e2e-crash-key-0123456789abcdef';
const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
const env = { DATA_DIR: dataDir, SWITCHBOARD_DEV_KEY: KEY, SIMULATOR_LATENCY_SCALE: '0.05', DEMO: 'off', RATE_LIMIT_PER_MINUTE: '1000000', ROUTER_WORKERS: '2' };
let service: Child | undefined;
afterAll(async () => {
  if (service) await stopProcess(service);
});

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

/** Steady traffic from six clients (half of them streaming) until stopped; what was answered, by generation id. */
function traffic(url: () => string) {
  const answered: string[] = [];
  let running = true;
  const clients = Array.from({ length: 6 }, async (_, w) => {
    while (running) {
      try {
        const res = await fetch(`${url()}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(chatBody('mistralai/mistral-nemo', { stream: w % 2 === 0 })) });
        const text = await res.text();
        // Answered: the whole body arrived (a stream through its [DONE]).
        if (res.status === 200 && (w % 2 === 1 || text.includes('data: [DONE]'))) answered.push(res.headers.get('x-switchboard-generation-id')!);
      } catch {
        // Cut by a kill: never answered.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    answered,
    grown: (by: number) => {
      const target = answered.length + by;
      return eventually(
        async () => answered.length,
        (n) => n >= target,
        120_000,
      );
    },
    stop: async () => {
      running = false;
      await Promise.all(clients);
    },
  };
}

describe('crash drills under the supervisor', () => {
  it('a killed router, data process and supervisor lose no answered request and record none twice', async () => {
    service = await startServiceProcess(undefined, env);
    const load = traffic(() => service!.url);
    await load.grown(150);

    const router = killChild(service, 'router');
    await restartedAfter(service, router, 'router', 2);
    await load.grown(150);

    const data = killChild(service, 'data');
    // Routing goes on without the data process; its restart reads the logs from where ClickHouse held them.
    await load.grown(100);
    await restartedAfter(service, data, 'data', 1);
    await load.grown(100);

    // The supervisor killed: its processes see their channel close and stop by themselves.
    await Promise.all([killSupervisor(service), load.stop()]);

    service = await startServiceProcess(undefined, env);
    const answered = load.answered;
    const generation = async (id: string) => (await fetch(`${service!.url}/api/v1/generation?id=${id}`, { headers })).status;
    await eventually(
      async () => (await Promise.all(answered.slice(-20).map(generation))).every((s) => s === 200),
      (ok) => ok,
      120_000,
    );
    const statuses = await Promise.all(answered.map(generation));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const usage = (await (await fetch(`${service.url}/api/v1/usage?group_by=model`, { headers })).json()) as { totals: { requests: number } };
    // Stopped, not killed: what the restart read is in ClickHouse, and the engine is free for this test.
    await stopProcess(service);
    service = undefined;

    const ch = await openClickHouse({ url: undefined, dataDir });
    try {
      const rows = await queryRows<{ id: string; n: string }>(ch, 'SELECT generation_id AS id, count() AS n FROM requests WHERE generation_id IN {ids:Array(String)} GROUP BY id', {
        ids: answered,
      });
      console.log(`answered across the three kills: ${answered.length}; recorded: ${rows.length}`);
      expect(rows.length).toBe(answered.length);
      expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
      const [dupes] = await queryRows<{ n: string }>(ch, 'SELECT count() AS n FROM (SELECT event_id FROM attempts GROUP BY event_id HAVING count() > 1)');
      expect(Number(dupes.n)).toBe(0);
      const [dev] = await queryRows<{ n: string }>(ch, "SELECT count() AS n FROM requests WHERE account_id = 'acct_dev'");
      // Usage counts every recorded request of the key once: the answered ones and those cut by a kill.
      expect(usage.totals.requests).toBe(Number(dev.n));
      expect(usage.totals.requests).toBeGreaterThanOrEqual(answered.length);
    } finally {
      await closeClickHouse(ch, true);
    }
  }, 600_000);
});
