// What the router pays per request to hand its telemetry on: the in-memory queue and the post of its
// batches to the ingest worker (embedded mode before the local log) against the local log's write before the answer's last
// byte (one encode per event and one write(2) per request). Alternating rounds in one process; CPU time
// of this thread per request (two events: an attempt and its request), and the ratio.
//   npx tsx bench/telemetry/emit.ts [--requests 200000] [--rounds 4]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MessageChannel } from 'node:worker_threads';
import { MemoryBus } from '../../telemetry/bus.ts';
import { LocalLogSink, LocalLogWriter } from '../../telemetry/local-log.ts';
import { eventPair } from '../ingest/events.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '4' } } });
const N = Number(values.requests);
const now = Date.now();
const pairs = Array.from({ length: N }, (_, i) => eventPair(i, now));

function cpuMicros(run: () => void): number {
  const t0 = process.cpuUsage();
  run();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / N;
}

const channel = new MessageChannel();
channel.port2.on('message', () => undefined);
channel.port2.unref();
const results: { memory: number; log: number }[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const bus = new MemoryBus(Number.MAX_SAFE_INTEGER);
  const memory = cpuMicros(() => {
    for (const [attempt, request] of pairs) {
      bus.emit(attempt);
      bus.emit(request);
      // What the embedded forwarder did with them, every few ms on the same thread: take them off the
      // queue and post them to the ingest worker (one structured clone per batch).
      if (bus.depth >= 5000) channel.port1.postMessage(bus.take(5000));
    }
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-emit-'));
  const writer = new LocalLogWriter(dir);
  writer.open();
  const sink = new LocalLogSink(writer);
  const log = cpuMicros(() => {
    for (const [attempt, request] of pairs) {
      sink.emit(attempt);
      sink.emit(request); // the request event writes both lines
    }
  });
  sink.close();
  rmSync(dir, { recursive: true, force: true });
  results.push({ memory, log });
  console.log(`round ${round + 1}: memory queue + post ${memory.toFixed(2)} µs/request, local log ${log.toFixed(2)} µs/request, ratio ${(log / memory).toFixed(2)}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median: memory queue ${median(results.map((r) => r.memory)).toFixed(2)} µs, local log ${median(results.map((r) => r.log)).toFixed(2)} µs per request (${N} requests × ${values.rounds} rounds)`,
);
