// One batch of messages from either source of telemetry — a Kafka partition, or one router's local log —
// turned into rows under the same exactly-once rules. Every row carries its source position (partition,
// next offset); on taking a source, ingest reads how far ClickHouse already holds it (the high-water mark
// per table) and skips anything below, so a replay after a crash never adds a row twice. Copies made by a
// router's spool replay are checked by event id instead. Each event becomes its line as it is read and
// each message's lines one text, so no event object outlives its message (replayed copies excepted).
import { decodeMessage, type TelemetryEvent } from '../telemetry/event.ts';
import type { HighWater } from '../store/positions.ts';
import { INSERT_ORDER, lineOf, tableOf, type Block, type Table } from '../store/rows.ts';

export type { HighWater } from '../store/positions.ts';

export interface SourceMessage {
  /** The message's position; `offset + 1` is where the next one starts (the mark its rows store). */
  offset: number;
  value: Buffer | null;
  key?: Buffer | null;
  /** Re-sent from a router's spool: the broker may hold the original, so it is checked by event id. */
  replay?: boolean;
}

export interface Poison {
  value: Buffer | string;
  key: Buffer | null;
  offset: number;
  partition: number;
  reason: string;
}

export interface PreparedBatch {
  blocks: Record<Table, Block>;
  poison: Poison[];
  kept: number;
  skipped: number;
  /** The marks the kept rows reach, per table. */
  next: HighWater;
}

export async function prepareBatch(
  messages: readonly SourceMessage[],
  partition: number,
  hw: HighWater,
  alreadyStored: (events: TelemetryEvent[]) => Promise<Set<string>>,
): Promise<PreparedBatch> {
  const blocks: Record<Table, Block> = { requests: { texts: [], lines: 0 }, attempts: { texts: [], lines: 0 } };
  const next = { requests: 0, attempts: 0 };
  const replayed: { e: TelemetryEvent; offset: number }[] = [];
  const poison: Poison[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  let kept = 0;
  const keep = (e: TelemetryEvent, offset: number, out: Record<Table, string[]>) => {
    const table = tableOf(e);
    out[table].push(lineOf(e, partition, offset + 1));
    next[table] = Math.max(next[table], offset + 1);
    kept++;
  };
  const close = (out: Record<Table, string[]>) => {
    for (const table of INSERT_ORDER) {
      if (out[table].length === 0) continue;
      blocks[table].texts.push(out[table].join('\n'));
      blocks[table].lines += out[table].length;
    }
  };
  for (const message of messages) {
    const { offset } = message;
    const out: Record<Table, string[]> = { requests: [], attempts: [] };
    for (const { line, result } of decodeMessage(message.value)) {
      if (!result.ok) {
        poison.push({ value: line, key: message.key ?? null, offset, partition, reason: result.reason });
        continue;
      }
      const e = result.event;
      // Below the high-water mark of its table: ClickHouse has it from an earlier run.
      if (offset + 1 <= hw[tableOf(e)] || seen.has(e.event_id)) {
        skipped++;
        continue;
      }
      seen.add(e.event_id);
      if (message.replay) replayed.push({ e, offset });
      else keep(e, offset, out);
    }
    close(out);
  }
  if (replayed.length > 0) {
    const stored = await alreadyStored(replayed.map((r) => r.e));
    skipped += stored.size;
    const out: Record<Table, string[]> = { requests: [], attempts: [] };
    for (const { e, offset } of replayed) if (!stored.has(e.event_id)) keep(e, offset, out);
    close(out);
  }
  return { blocks, poison, kept, skipped, next };
}
