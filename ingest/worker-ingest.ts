// The router's side of embedded ingest: drains the in-process bus every few milliseconds and hands the
// events to the ingest worker thread in one message per batch (one structured clone, not one per event).
import { Worker } from 'node:worker_threads';
import { COMPILED } from '../core/paths.ts';
import type { MemoryBus } from '../telemetry/bus.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import type { WriterObserver } from './writer.ts';

export interface WorkerIngestObserver extends WriterObserver {
  /** Events the worker refused as invalid against the event contract (never written). */
  onInvalid(reason: string, events: number): void;
}

const FORWARD_MS = 20;
const FORWARD_MAX = 5000;

export class WorkerIngest {
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;
  private forwarded = 0;
  /** Events the worker has written to ClickHouse. */
  written = 0;
  /** Events the worker gave up on after repeated insert failures. */
  dropped = 0;

  constructor(
    private readonly bus: MemoryBus,
    private readonly init: WorkerInit,
    private readonly observer: WorkerIngestObserver,
  ) {}

  async start(): Promise<void> {
    // Compiled, the worker is plain JavaScript; from TypeScript it needs the loader registered first.
    const worker = new Worker(new URL(COMPILED ? './worker.js' : './worker-entry.mjs', import.meta.url), { workerData: this.init });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            return resolve();
          case 'fatal':
            return reject(new Error(`ingest worker failed: ${m.message}`));
          case 'insert':
            return this.observer.onInsert(m.table, m.rows, m.seconds);
          case 'insert_error':
            return this.observer.onInsertError(m.table);
          case 'drop':
            return this.observer.onDrop(m.table, m.rows);
          case 'invalid':
            return this.observer.onInvalid(m.reason, m.events);
          case 'progress':
          case 'stopped':
            this.written = m.written;
            this.dropped = m.dropped;
            this.bus.outstanding = this.forwarded - m.written - m.dropped;
        }
      });
      worker.once('error', reject);
    });
    this.timer = setInterval(() => this.forward(), FORWARD_MS);
    this.timer.unref();
  }

  private forward(): void {
    while (this.bus.depth > 0) {
      const events = this.bus.take(FORWARD_MAX);
      this.forwarded += events.length;
      this.bus.outstanding += events.length;
      this.post({ type: 'events', events });
    }
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  /** Forward what is queued, let the worker flush it into ClickHouse, and end the thread. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearInterval(this.timer);
      const worker = this.worker;
      if (!worker) return;
      this.forward();
      const done = new Promise<void>((resolve) => worker.on('message', (m: FromWorker) => m.type === 'stopped' && resolve()));
      this.post({ type: 'stop' });
      await done;
      await worker.terminate();
    })();
    return this.stopped;
  }
}
