// The ClickHouse schema, as ordered migrations. Each runs once (recorded in schema_migrations) and is
// written to be idempotent anyway (IF NOT EXISTS), so a crash between a statement and its record is safe.
// Append new migrations; never edit one that has shipped.

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

// Raw rows are immutable: no updates, no FINAL. Block-level insert deduplication (with a token per batch)
// needs a window on non-replicated MergeTree tables.
const RAW_SETTINGS = 'SETTINGS non_replicated_deduplication_window = 10000';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'raw requests and attempts',
    statements: [
      `CREATE TABLE IF NOT EXISTS requests (
        event_id UUID,
        generation_id String,
        ts DateTime64(3, 'UTC'),
        account_id String,
        key_id String,
        app LowCardinality(String),
        category LowCardinality(String),
        requested_model LowCardinality(String),
        served_model LowCardinality(String),
        provider LowCardinality(String),
        endpoint_id LowCardinality(String),
        status UInt16,
        error_class LowCardinality(String),
        latency_ms Float32,
        ttft_ms Float32,
        tokens_prompt UInt32,
        tokens_completion UInt32,
        cost_usd Float64,
        fee_usd Float64,
        streamed Bool,
        fallback_depth UInt8,
        attempts UInt8
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(ts)
      ORDER BY (toStartOfHour(ts), served_model, account_id, generation_id)
      ${RAW_SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS attempts (
        event_id UUID,
        generation_id String,
        attempt UInt8,
        ts DateTime64(3, 'UTC'),
        account_id String,
        key_id String,
        model LowCardinality(String),
        provider LowCardinality(String),
        endpoint_id LowCardinality(String),
        status UInt16,
        error_class LowCardinality(String),
        latency_ms Float32,
        ttft_ms Float32,
        tokens_prompt UInt32,
        tokens_completion UInt32,
        cost_usd Float64,
        streamed Bool
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(ts)
      ORDER BY (endpoint_id, ts, generation_id, attempt)
      ${RAW_SETTINGS}`,
      // Owner lookups by generation id would otherwise scan: a bloom filter skips most granules.
      `ALTER TABLE requests ADD INDEX IF NOT EXISTS idx_generation generation_id TYPE bloom_filter(0.01) GRANULARITY 4`,
      `ALTER TABLE attempts ADD INDEX IF NOT EXISTS idx_generation generation_id TYPE bloom_filter(0.01) GRANULARITY 4`,
    ],
  },
  {
    version: 2,
    name: 'kafka origin of each row, for idempotent replays',
    // offset + 1 (Kafka's "next offset" convention), so 0 can mean "not from Kafka" (embedded mode).
    statements: [
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS kafka_partition UInt16 DEFAULT 0`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS kafka_offset_next UInt64 DEFAULT 0`,
      `ALTER TABLE attempts ADD COLUMN IF NOT EXISTS kafka_partition UInt16 DEFAULT 0`,
      `ALTER TABLE attempts ADD COLUMN IF NOT EXISTS kafka_offset_next UInt64 DEFAULT 0`,
      `ALTER TABLE requests ADD INDEX IF NOT EXISTS idx_kafka_partition kafka_partition TYPE minmax GRANULARITY 1`,
      `ALTER TABLE attempts ADD INDEX IF NOT EXISTS idx_kafka_partition kafka_partition TYPE minmax GRANULARITY 1`,
    ],
  },
];

/** Tables whose rows expire after the configured retention. */
export const RAW_TABLES = ['requests', 'attempts'] as const;
