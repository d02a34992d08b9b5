// The ingest worker thread: owns its ClickHouse client, batches events and inserts them, so JSON encoding
// and inserts never stall the router's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { closeClickHouse, openClickHouse } from '../analytics/clickhouse.ts';
import { createLogger } from '../core/logger.ts';
import { MemoryBus } from '../telemetry/bus.ts';
import { validateEvent } from '../telemetry/event.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { IngestWriter } from './writer.ts';
import { reconcileUsage } from '../analytics/reconcile.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker) => port.postMessage(m);

try {
  const client = await openClickHouse({ url: init.clickhouseUrl, dataDir: init.dataDir });
  await reconcileUsage(client, Date.now() - 2 * 86_400_000); // an earlier crash may have left aggregates behind
  // The router's thread already bounds what it forwards; here nothing more is dropped for lack of room.
  const bus = new MemoryBus(Number.MAX_SAFE_INTEGER);
  const log = createLogger(init.logLevel, 'switchboard-ingest');
  // The router builds its events itself, but this is still ingest's edge: what the Kafka consumer would
  // send to the DLQ is refused here, counted and logged (once a second per reason), never written.
  let invalid = 0;
  const loggedAt = new Map<string, number>();
  const admit = (message: ToWorker & { type: 'events' }) => {
    const refused = new Map<string, number>();
    for (const e of message.events) {
      const v = validateEvent(e);
      if (v.ok) bus.emit(e);
      else refused.set(v.reason, (refused.get(v.reason) ?? 0) + 1);
    }
    for (const [reason, n] of refused) {
      invalid += n;
      send({ type: 'invalid', reason, events: n });
      if ((loggedAt.get(reason) ?? 0) < Date.now() - 1000) {
        loggedAt.set(reason, Date.now());
        log.warn({ reason, events: n }, 'telemetry events refused: not valid against the event contract');
      }
    }
  };
  const writer = new IngestWriter(client, bus, init, log, {
    onInsert: (table, rows, seconds) => send({ type: 'insert', table, rows, seconds }),
    onBatch: () => send({ type: 'progress', written: writer.written, dropped: writer.dropped + invalid }),
    onInsertError: (table) => send({ type: 'insert_error', table }),
    onDrop: (table, rows) => send({ type: 'drop', table, rows }),
  });
  writer.start();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'events') admit(m);
    else if (m.type === 'stop') {
      void writer
        .stop()
        .then(() => closeClickHouse(client, init.clickhouseUrl === undefined))
        .then(() => send({ type: 'stopped', written: writer.written, dropped: writer.dropped + invalid }));
    }
  });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'fatal', message: (err as Error).message });
}
