// With the broker away, the router's sender writes its queue to the disk spool one batch at a time and
// lets requests run in between: a deep queue must not hold the event loop until all of it is on disk.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.ts';
import { KafkaSink } from '../../telemetry/kafka-sink.ts';
import { createKafka } from '../../telemetry/kafka.ts';
import { requestEvent } from '../fixtures/events.ts';

/** A loopback port with nothing listening: the broker is away. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

let sink: KafkaSink | undefined;
afterAll(async () => sink?.stop());

describe('spooling while the broker is away', () => {
  it('writes one batch at a time and lets timers and I/O run between batches', async () => {
    const log = createLogger('silent');
    const batch = 200;
    sink = new KafkaSink(
      createKafka([`127.0.0.1:${await closedPort()}`], 'spool-yield-test', log),
      { queueMax: 1_000_000, batchMax: batch, lingerMs: 5, spoolDir: mkdtempSync(join(tmpdir(), 'switchboard-spool-yield-')), spoolMaxBytes: 1e9, topic: 't' },
      log,
    );
    for (let i = 0; i < batch * 20; i++) sink.emit(requestEvent());
    const seen = new Promise<{ depth: number; spooled: number }>((resolve) => setImmediate(() => resolve({ depth: sink!.bus.depth, spooled: sink!.spooled })));
    sink.start();
    const at = await seen;
    // The first macrotask after start ran while most of the queue still waited: the sender had yielded.
    expect(at.spooled).toBeGreaterThan(0);
    expect(at.depth).toBeGreaterThan(batch * 10);
    // And it all reaches the spool in the end, none dropped.
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.spooled).toBe(batch * 20);
    expect(sink.dropped).toBe(0);
  });
});
