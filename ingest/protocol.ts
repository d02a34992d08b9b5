// Messages between the router's thread and the ingest worker thread (embedded mode).
import type { TelemetryEvent } from '../telemetry/event.ts';

export interface WorkerInit {
  clickhouseUrl: string | undefined;
  dataDir: string;
  batchMax: number;
  flushIntervalMs: number;
  logLevel: string;
}

export type ToWorker = { type: 'events'; events: TelemetryEvent[] } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'insert'; table: string; rows: number; seconds: number }
  | { type: 'insert_error'; table: string }
  | { type: 'drop'; table: string; rows: number }
  /** Events refused before writing: not valid against the event contract (`reason` names the field). */
  | { type: 'invalid'; reason: string; events: number }
  | { type: 'progress'; written: number; dropped: number }
  | { type: 'stopped'; written: number; dropped: number }
  | { type: 'fatal'; message: string };
