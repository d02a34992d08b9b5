// A service whose output pipe has gone (the terminal closed, a log collector restarted) still stops on
// SIGTERM, every process of it: a log line that cannot be written must not hold up an exit.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, childrenOf, startServiceProcess, stopProcess } from '../helpers/process.ts';
import { eventually } from '../helpers/service.ts';

describe('a stop after the output pipe closed', () => {
  it('ends the supervisor (code 0) and every process it started', async () => {
    const service = await startServiceProcess(undefined, {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'switchboard-output-gone-')),
      SWITCHBOARD_DEV_KEY: 'e2e-output-gone-key-0123456789abcdef',
      ROUTER_WORKERS: '2',
      DEMO_ACCOUNTS: '50',
      DEMO_DAYS: '2',
    });
    const children = childrenOf(service.proc.pid!);
    expect(children.map((c) => c.role).sort()).toEqual(['data', 'router', 'router', 'simulator']);
    service.proc.stdout!.destroy();
    service.proc.stderr!.destroy();
    const code = await stopProcess(service);
    expect(code).toBe(0);
    await eventually(
      async () => children.filter((c) => alive(c.pid)),
      (left) => left.length === 0,
      30_000,
    );
  }, 180_000);
});
