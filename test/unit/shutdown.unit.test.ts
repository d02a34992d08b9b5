import { describe, expect, it } from 'vitest';
import { waitingFor } from '../../service/shutdown.ts';

const recorder = () => {
  const lines: { level: string; msg: string }[] = [];
  return { lines, logger: { warn: (_: object, msg: string) => lines.push({ level: 'warn', msg }), error: (_: object, msg: string) => lines.push({ level: 'error', msg }) } };
};
const after = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));

describe('a shutdown step', () => {
  it('names itself while it takes long, and says nothing once done', async () => {
    const { lines, logger } = recorder();
    await waitingFor('embedded ingest', after(130, undefined), logger, undefined, 50);
    expect(lines.map((l) => l.msg)).toEqual(['shutdown: still waiting for the embedded ingest', 'shutdown: still waiting for the embedded ingest']);
  });

  it('with a limit, is given up past it with an error, though what it waits on never settles', async () => {
    const { lines, logger } = recorder();
    const t0 = Date.now();
    await waitingFor('figure computed ahead', new Promise(() => undefined), logger, 80, 1_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
    expect(lines).toEqual([{ level: 'error', msg: 'shutdown: gave up waiting for the figure computed ahead' }]);
  });

  it('with a limit it did not reach, ends when the step does, and a failure still fails the stop', async () => {
    const { lines, logger } = recorder();
    // biome-ignore lint/suspicious/noDuplicateTestHooks: `after` is this file's delayed-promise helper, not a test hook
    await waitingFor('ClickHouse', after(10, true), logger, 5_000);
    expect(lines).toEqual([]);
    await expect(waitingFor('telemetry producer', Promise.reject(new Error('spool full')), logger, 5_000)).rejects.toThrow('spool full');
  });
});
