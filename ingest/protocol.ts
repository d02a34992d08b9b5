// Messages between the service's main thread and the ingest worker thread (embedded mode).

export interface WorkerInit {
  clickhouseUrl: string | undefined;
  dataDir: string;
  batchMax: number;
  flushIntervalMs: number;
  logLevel: string;
}

/** `poll`: read the logs now rather than at the next interval; `catch_up`: the same, answered once written. */
export type ToWorker = { type: 'poll' } | { type: 'catch_up' } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'insert'; table: string; rows: number; seconds: number }
  | { type: 'insert_error'; table: string }
  /** Events refused before writing: not valid against the event contract (`reason` names the field). */
  | { type: 'invalid'; reason: string; events: number }
  | { type: 'progress'; written: number; dropped: number }
  | { type: 'caught_up' }
  | { type: 'stopped'; written: number; dropped: number }
  | { type: 'fatal'; message: string };
