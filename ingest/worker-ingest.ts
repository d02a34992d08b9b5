// The main thread's side of embedded ingest: starts the worker thread that reads the local logs into
// ClickHouse, relays what it reports, and stops it once it has written everything appended.
import { Worker } from 'node:worker_threads';
import { COMPILED } from '../core/paths.ts';
import type { InsertObserver } from './coalescer.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

export interface WorkerIngestObserver extends InsertObserver {
  /** Events the worker refused as invalid against the event contract (never written). */
  onInvalid(reason: string, events: number): void;
}

export class WorkerIngest {
  private worker: Worker | undefined;
  private stopped: Promise<void> | undefined;
  private readonly caughtUp: (() => void)[] = [];
  /** Events the worker has written to ClickHouse (this run). */
  written = 0;
  /** Events it refused (invalid against the contract). */
  dropped = 0;

  constructor(
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
          case 'invalid':
            return this.observer.onInvalid(m.reason, m.events);
          case 'caught_up':
            return this.caughtUp.shift()?.();
          case 'progress':
          case 'stopped':
            this.written = m.written;
            this.dropped = m.dropped;
        }
      });
      worker.once('error', reject);
    });
  }

  /** Everything appended to the logs before this call, written to ClickHouse (in order of the calls). */
  catchUp(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.caughtUp.push(resolve);
      this.post({ type: 'catch_up' });
    });
  }

  /** Read the logs now (tests waiting for their events need not wait for the next interval). */
  poll(): void {
    this.post({ type: 'poll' });
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  /** Let the worker read and write everything appended so far, and end the thread. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const worker = this.worker;
      if (!worker) return;
      const done = new Promise<void>((resolve) => worker.on('message', (m: FromWorker) => m.type === 'stopped' && resolve()));
      this.post({ type: 'stop' });
      await done;
      await worker.terminate();
    })();
    return this.stopped;
  }
}
