// Events written as TabSeparated lines read back from ClickHouse (chDB in-process) field for field: text
// that needs escaping (tabs, newlines, backslashes, quotes, non-ASCII), tiny and large numbers, booleans,
// millisecond times, and the Kafka origin columns.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeClickHouse, openClickHouse, queryRows, type ClickHouseClient } from '../../store/clickhouse.ts';
import { migrate } from '../../store/migrate.ts';
import { columns, insertEvents, insertRows, toRows } from '../../store/rows.ts';
import { EVENT_VERSION, RequestEventSchema, type AttemptEvent } from '../../telemetry/event.ts';
import { requestEvent } from '../fixtures/events.ts';

let ch: ClickHouseClient;
beforeAll(async () => {
  ch = await openClickHouse({ url: undefined, dataDir: mkdtempSync(join(tmpdir(), 'rows-')) });
  await migrate(ch, 400);
});
afterAll(async () => closeClickHouse(ch, true));

const AWKWARD = ['tab\there', 'line\nbreak', 'back\\slash', 'cr\rhere', '\\t literally', 'quote\'s "double"', 'ünïcødé ✓ 模型', '', 'ends with \\'];

/** A row read back as JSON, with ClickHouse's text for the time and numbers as numbers. */
async function readBack(table: string, id: string): Promise<Record<string, unknown>> {
  const [row] = await queryRows<Record<string, unknown>>(
    ch,
    `SELECT * EXCEPT ts, toUnixTimestamp64Milli(ts) AS ts FROM {table:Identifier} WHERE event_id = {id:UUID}
     SETTINGS output_format_json_quote_64bit_integers = 0, output_format_json_quote_64bit_floats = 0`,
    { table, id },
  );
  return row;
}

describe('events as TabSeparated rows', () => {
  it('every request field reads back as the event had it, whatever its text', async () => {
    const events = AWKWARD.map((s, i) =>
      requestEvent({
        app: s,
        category: s,
        account_id: `acct ${s}`,
        generation_id: `gen-${i}-${s}`,
        ts: 1_795_000_000_000 + i * 1001 + 7,
        cost_usd: 1.5e-9 * (i + 1),
        fee_usd: 123456.789,
        latency_ms: 0.25,
        streamed: i % 2 === 0,
        tokens_prompt: 99_999_999,
        // Every other event carries the optional fields; the rest read back as the columns' defaults.
        ...(i % 2 === 1
          ? {
              finish_reason: s,
              native_finish_reason: s,
              upstream_id: s,
              external_user: s,
              tokens_cached: 7,
              tokens_reasoning: 9,
              session_id: s,
              step: s,
              auto_choice: s,
              policy: s,
            }
          : {}),
      }),
    );
    await insertEvents(ch, events);
    const defaults = {
      finish_reason: '',
      native_finish_reason: '',
      upstream_id: '',
      external_user: '',
      tokens_cached: 0,
      tokens_reasoning: 0,
      session_id: '',
      step: '',
      auto_choice: '',
      policy: '',
    };
    for (const e of events) {
      const row = await readBack('requests', e.event_id);
      const { kind: _k, v: _v, ...want } = e;
      expect(row).toEqual({ ...defaults, ...want, kafka_partition: 0, kafka_offset_next: 0 });
    }
  });

  it('attempts carry their Kafka origin as partition and next offset', async () => {
    const attempt: AttemptEvent = {
      v: EVENT_VERSION,
      kind: 'attempt',
      event_id: '00000000-0000-4000-8000-00000000000a',
      generation_id: 'gen-a',
      ts: 1_795_000_000_999,
      account_id: 'acct',
      key_id: 'key',
      provider: 'p\tq',
      endpoint_id: 'p:m',
      status: 429,
      error_class: 'rate_limited',
      latency_ms: 12.5,
      ttft_ms: 0,
      tokens_prompt: 1,
      tokens_completion: 0,
      cost_usd: 0,
      streamed: true,
      attempt: 2,
      model: 'm\nn',
    };
    const rows = toRows([attempt], [{ partition: 3, offset: 41 }]);
    expect(rows.requests).toEqual([]);
    await insertRows(ch, 'attempts', rows.attempts);
    const { kind: _k, v: _v, ...want } = attempt;
    expect(await readBack('attempts', attempt.event_id)).toEqual({ ...want, kafka_partition: 3, kafka_offset_next: 42 });
  });

  it('lines name every column of the raw tables but the defaults', async () => {
    // Columns with a default that lines still write: the Kafka origin, and the event's optional fields.
    const optional = { requests: Object.keys(RequestEventSchema.properties).filter((k) => !(RequestEventSchema.required as string[]).includes(k)), attempts: [] as string[] };
    expect(optional.requests).toHaveLength(10);
    for (const table of ['requests', 'attempts'] as const) {
      const all = await queryRows<{ name: string }>(ch, `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String} AND default_kind = ''`, {
        table,
      });
      expect([...columns[table]].sort()).toEqual(
        all
          .map((c) => c.name)
          .filter((n) => n !== 'kafka_partition' && n !== 'kafka_offset_next')
          .concat(['kafka_partition', 'kafka_offset_next', ...optional[table]])
          .sort(),
      );
    }
  });
});
