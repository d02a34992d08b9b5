// Telemetry events → ClickHouse rows. Shared by the embedded writer and the Kafka consumer.
import type { AttemptEvent, RequestEvent, TelemetryEvent } from '../telemetry/event.ts';

/** DateTime64(3) text as the basic input format reads it ('YYYY-MM-DD hh:mm:ss.sss', UTC). */
const dateTime = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

export function requestRow(e: RequestEvent): Record<string, unknown> {
  const { kind: _k, v: _v, ts, ...rest } = e;
  return { ...rest, ts: dateTime(ts) };
}

export function attemptRow(e: AttemptEvent): Record<string, unknown> {
  const { kind: _k, v: _v, ts, ...rest } = e;
  return { ...rest, ts: dateTime(ts) };
}

export function splitRows(events: readonly TelemetryEvent[]): { requests: Record<string, unknown>[]; attempts: Record<string, unknown>[] } {
  const requests: Record<string, unknown>[] = [];
  const attempts: Record<string, unknown>[] = [];
  for (const e of events) {
    if (e.kind === 'request') requests.push(requestRow(e));
    else attempts.push(attemptRow(e));
  }
  return { requests, attempts };
}
