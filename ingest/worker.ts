// The ingest worker thread (embedded mode): owns its ClickHouse client and reads the routers' local logs
// into it (ingest/log-tail.ts), so decoding and inserts never stall a router's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { closeClickHouse, openClickHouse } from '../store/clickhouse.ts';
import { reconcileUsage } from '../store/reconcile.ts';
import { createLogger } from '../core/logger.ts';
import { logDirOf } from '../telemetry/local-log.ts';
import { LogTail } from './log-tail.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker) => port.postMessage(m);
/** The most read from one router's log per insert. */
const READ_MAX_BYTES = 16 * 1024 * 1024;

try {
  const client = await openClickHouse({ url: init.clickhouseUrl, dataDir: init.dataDir });
  await reconcileUsage(client, Date.now() - 2 * 86_400_000); // an earlier crash may have left aggregates behind
  const log = createLogger(init.logLevel, 'switchboard-ingest');
  // The routers build their events themselves, but this is still ingest's edge: what the Kafka consumer
  // would send to the DLQ is refused here, counted and logged (once a second per reason), never written.
  const loggedAt = new Map<string, number>();
  const tail = new LogTail(
    logDirOf(init.dataDir),
    client,
    { pollMs: init.flushIntervalMs, maxBytes: READ_MAX_BYTES, lingerMs: 10, maxRows: init.batchMax },
    {
      onInsert: (table, rows, seconds) => send({ type: 'insert', table, rows, seconds }),
      onInsertError: (table) => send({ type: 'insert_error', table }),
      onInvalid: (reason, events) => {
        send({ type: 'invalid', reason, events });
        if ((loggedAt.get(reason) ?? 0) < Date.now() - 1000) {
          loggedAt.set(reason, Date.now());
          log.warn({ reason, events }, 'telemetry events refused: not valid against the event contract');
        }
      },
      onProgress: (written, invalid) => send({ type: 'progress', written, dropped: invalid }),
    },
    log,
  );
  tail.start();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'poll') void tail.poll();
    else if (m.type === 'catch_up') void tail.poll().then(() => send({ type: 'caught_up' }));
    else if (m.type === 'stop') {
      void tail
        .stop()
        .then(() => closeClickHouse(client, init.clickhouseUrl === undefined))
        .then(() => send({ type: 'stopped', written: tail.written, dropped: tail.invalid }));
    }
  });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'fatal', message: (err as Error).message });
}
