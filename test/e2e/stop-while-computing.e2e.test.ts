// A stop that arrives while the public figures are being computed ahead ends cleanly: the read in flight
// finishes (or is given up) before the ingest worker closes its side of the process's one chDB session.
// Closing it first left the read waiting forever, and the stop ended only by the forced exit (code 1).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServiceProcess, stopProcess } from '../helpers/process.ts';
import { eventually } from '../helpers/service.ts';

describe('a stop during the computation ahead', () => {
  it('exits on its own (code 0) with "switchboard stopped"', async () => {
    const env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'switchboard-stop-')),
      SWITCHBOARD_DEV_KEY: 'e2e-stop-key-0123456789abcdef',
      DEMO_ACCOUNTS: '100',
      DEMO_DAYS: '7',
      DEMO_LIVE_RPS: '0',
    };
    const service = await startServiceProcess(undefined, env);
    await eventually(
      async () => service.log(),
      (log) => log.includes('computing the public rankings, model stats and revealed preference ahead'),
      120_000,
    );
    const code = await stopProcess(service);
    expect(service.log()).toContain('switchboard stopped');
    expect(service.log()).not.toContain('gave up waiting');
    expect(code).toBe(0);
  }, 180_000);
});
