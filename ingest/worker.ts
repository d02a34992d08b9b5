// The ingest worker thread: owns its ClickHouse client, batches events and inserts them, so JSON encoding
// and inserts never stall the router's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { closeClickHouse, openClickHouse } from '../analytics/clickhouse.ts';
import { createLogger } from '../core/logger.ts';
import { MemoryBus } from '../telemetry/bus.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { IngestWriter } from './writer.ts';
import { reconcileUsage } from '../analytics/reconcile.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker) => port.postMessage(m);

try {
  const client = await openClickHouse({ url: init.clickhouseUrl, dataDir: init.dataDir });
  await reconcileUsage(client, Date.now() - 2 * 86_400_000); // an earlier crash may have left aggregates behind
  // The router's thread already bounds what it forwards; here nothing more is dropped.
  const bus = new MemoryBus(Number.MAX_SAFE_INTEGER);
  const writer = new IngestWriter(client, bus, init, createLogger(init.logLevel, 'switchboard-ingest'), {
    onInsert: (table, rows, seconds) => send({ type: 'insert', table, rows, seconds }),
    onBatch: () => send({ type: 'progress', written: writer.written, dropped: writer.dropped }),
    onInsertError: (table) => send({ type: 'insert_error', table }),
    onDrop: (table, rows) => send({ type: 'drop', table, rows }),
  });
  writer.start();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'events') {
      for (const e of m.events) bus.emit(e);
    } else if (m.type === 'stop') {
      void writer
        .stop()
        .then(() => closeClickHouse(client, init.clickhouseUrl === undefined))
        .then(() => send({ type: 'stopped', written: writer.written, dropped: writer.dropped }));
    }
  });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'fatal', message: (err as Error).message });
}
