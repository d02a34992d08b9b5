// Telemetry events → ClickHouse rows. Shared by the embedded writer and the Kafka consumer.
import type { AttemptEvent, RequestEvent, TelemetryEvent } from '../telemetry/event.ts';

import { dateTime64 as dateTime } from '../analytics/clickhouse.ts';

/** Where a row came from in Kafka; absent in embedded mode. */
export interface KafkaOrigin {
  partition: number;
  offset: number;
}

function row(e: RequestEvent | AttemptEvent, origin: KafkaOrigin | undefined): Record<string, unknown> {
  const { kind: _k, v: _v, ts, ...rest } = e;
  const r: Record<string, unknown> = { ...rest, ts: dateTime(ts) };
  if (origin) {
    r.kafka_partition = origin.partition;
    r.kafka_offset_next = origin.offset + 1;
  }
  return r;
}

export function splitRows(
  events: readonly TelemetryEvent[],
  origins?: readonly KafkaOrigin[],
): { requests: Record<string, unknown>[]; attempts: Record<string, unknown>[] } {
  const requests: Record<string, unknown>[] = [];
  const attempts: Record<string, unknown>[] = [];
  events.forEach((e, i) => (e.kind === 'request' ? requests : attempts).push(row(e, origins?.[i])));
  return { requests, attempts };
}
