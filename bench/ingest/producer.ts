// Producer side of bench/ingest, as its own process: emits events at a fixed rate through the router's
// own KafkaSink and reports what emission cost (the emit() call, and all producer CPU per event).
import { createLogger } from '../../core/logger.ts';
import { createKafka } from '../../telemetry/kafka.ts';
import { KafkaSink } from '../../telemetry/kafka-sink.ts';
import { eventPair } from './events.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [brokers, topic, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const log = createLogger('warn');
const sink = new KafkaSink(
  createKafka(brokers.split(','), 'bench-producer', log),
  {
    queueMax: 2_000_000,
    batchMax: 20_000,
    lingerMs: 20,
    spoolDir: mkdtempSync(join(tmpdir(), 'bench-spool-')),
    spoolMaxBytes: 2 ** 33,
    topic,
  },
  log,
);
sink.start();

const cpu0 = process.cpuUsage();
const start = performance.now();
let emitted = 0;
let emitNs = 0n;
let i = 0;
await new Promise<void>((resolve) => {
  const tick = () => {
    const elapsed = (performance.now() - start) / 1000;
    const due = Math.min(Math.floor(elapsed * rate), Math.floor(seconds * rate));
    const now = Date.now();
    const t0 = process.hrtime.bigint();
    while (emitted < due) {
      for (const e of eventPair(i++, now)) sink.emit(e);
      emitted += 2;
    }
    emitNs += process.hrtime.bigint() - t0;
    if (emitted >= seconds * rate) resolve();
    else setTimeout(tick, 2);
  };
  tick();
});
const emitEnd = performance.now();
await sink.stop();
const cpu = process.cpuUsage(cpu0);
// emitNs includes building the events; report it as an upper bound of emit() itself.
console.log(
  JSON.stringify({
    emitted,
    sent: sink.sent,
    dropped: sink.dropped,
    spooled: sink.spooled,
    emitSeconds: (emitEnd - start) / 1000,
    totalSeconds: (performance.now() - start) / 1000,
    emitAndBuildUsPerEvent: Number(emitNs) / 1000 / emitted,
    producerCpuUsPerEvent: (cpu.user + cpu.system) / emitted,
  }),
);
process.exit(0);
