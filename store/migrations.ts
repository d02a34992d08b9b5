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

/** The model a request is counted under: the one that served it, or the one asked for when none did. */
export const MODEL_OF_REQUEST = "if(served_model = '', requested_model, served_model)";
/** The measures both usage aggregates keep, and how they are summed from raw requests. */
export const USAGE_MEASURE_NAMES = ['requests', 'errors', 'tokens_prompt', 'tokens_completion', 'cost_nusd', 'fee_nusd'] as const;
const USAGE_MEASURES = USAGE_MEASURE_NAMES.map((m) => `${m} UInt64`).join(', ');
/** Re-summing the aggregate's measures at query time (SummingMergeTree collapses only on merge). */
export const USAGE_RESUM = USAGE_MEASURE_NAMES.map((m) => `sum(${m}) AS ${m}`).join(', ');
export const USAGE_SUMS = `count() AS requests, countIf(status != 200) AS errors, sum(tokens_prompt) AS tokens_prompt,
               sum(tokens_completion) AS tokens_completion, sum(toUInt64(round(cost_usd * 1e9))) AS cost_nusd,
               sum(toUInt64(round(fee_usd * 1e9))) AS fee_nusd`;

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
  {
    version: 3,
    name: 'usage aggregates fed by materialized views',
    // No app dimension here: with it the hourly table grows nearly as large as the raw one (apps have
    // their own daily table). Money is summed as integer nano-dollars so an aggregate equals the same sum over raw rows exactly,
    // whatever order the parts merge in (float sums are not associative).
    statements: [
      `CREATE TABLE IF NOT EXISTS usage_hourly (
        hour DateTime('UTC'),
        model LowCardinality(String),
        author LowCardinality(String),
        provider LowCardinality(String),
        category LowCardinality(String),
        ${USAGE_MEASURES}
      ) ENGINE = SummingMergeTree
      PARTITION BY toYYYYMM(hour)
      ORDER BY (hour, model, provider, category, author)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS usage_hourly_mv TO usage_hourly AS
        SELECT toStartOfHour(ts) AS hour,
               ${MODEL_OF_REQUEST} AS model,
               splitByChar('/', model)[1] AS author,
               provider, category,
               ${USAGE_SUMS}
        FROM requests
        GROUP BY hour, model, author, provider, category`,
      `CREATE TABLE IF NOT EXISTS usage_daily_account (
        day Date,
        account_id String,
        key_id String,
        model LowCardinality(String),
        provider LowCardinality(String),
        ${USAGE_MEASURES}
      ) ENGINE = SummingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (account_id, day, key_id, model, provider)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_account_mv TO usage_daily_account AS
        SELECT toDate(ts) AS day, account_id, key_id,
               ${MODEL_OF_REQUEST} AS model,
               provider,
               ${USAGE_SUMS}
        FROM requests
        GROUP BY day, account_id, key_id, model, provider`,
    ],
  },
  {
    version: 4,
    name: 'endpoint health per minute; catalog history',
    // Uptime as OpenRouter defines it: client errors (400/413 → upstream_4xx) are not failures, 429s are
    // counted apart, and a client hanging up says nothing about the endpoint.
    statements: [
      `CREATE TABLE IF NOT EXISTS endpoint_minute (
        minute DateTime('UTC'),
        endpoint_id LowCardinality(String),
        provider LowCardinality(String),
        model LowCardinality(String),
        attempts SimpleAggregateFunction(sum, UInt64),
        successes SimpleAggregateFunction(sum, UInt64),
        failures SimpleAggregateFunction(sum, UInt64),
        rate_limited SimpleAggregateFunction(sum, UInt64),
        client_errors SimpleAggregateFunction(sum, UInt64),
        decode_tokens SimpleAggregateFunction(sum, UInt64),
        decode_ms SimpleAggregateFunction(sum, Float64),
        latency AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float32),
        ttft AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float32)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(minute)
      ORDER BY (model, endpoint_id, provider, minute)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS endpoint_minute_mv TO endpoint_minute AS
        SELECT toStartOfMinute(ts) AS minute, endpoint_id, provider, model,
               count() AS attempts,
               countIf(error_class = 'none') AS successes,
               countIf(error_class NOT IN ('none', 'rate_limited', 'upstream_4xx', 'client_abort')) AS failures,
               countIf(error_class = 'rate_limited') AS rate_limited,
               countIf(error_class = 'upstream_4xx') AS client_errors,
               sumIf(tokens_completion, error_class = 'none' AND latency_ms > ttft_ms) AS decode_tokens,
               sumIf(toFloat64(latency_ms - ttft_ms), error_class = 'none' AND latency_ms > ttft_ms) AS decode_ms,
               quantilesTDigestStateIf(0.5, 0.9, 0.99)(latency_ms, error_class = 'none') AS latency,
               quantilesTDigestStateIf(0.5, 0.9, 0.99)(ttft_ms, error_class = 'none') AS ttft
        FROM attempts
        GROUP BY minute, endpoint_id, provider, model`,
      `CREATE TABLE IF NOT EXISTS catalog_history (
        ts DateTime64(3, 'UTC'),
        endpoint_id String,
        provider LowCardinality(String),
        model LowCardinality(String),
        price_prompt Float64,
        price_completion Float64,
        context_length UInt32,
        available Bool,
        change LowCardinality(String)
      ) ENGINE = MergeTree
      ORDER BY (model, endpoint_id, ts)`,
    ],
  },
  {
    version: 5,
    name: 'apps per day with their distinct users',
    statements: [
      `CREATE TABLE IF NOT EXISTS app_daily (
        day Date,
        app LowCardinality(String),
        category LowCardinality(String),
        users AggregateFunction(uniqExact, String),
        requests SimpleAggregateFunction(sum, UInt64),
        tokens SimpleAggregateFunction(sum, UInt64)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (day, app, category)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS app_daily_mv TO app_daily AS
        SELECT toDate(ts) AS day, app, category,
               uniqExactState(account_id) AS users,
               count() AS requests,
               sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE app != ''
        GROUP BY day, app, category`,
    ],
  },
  {
    version: 6,
    name: 'usage per day, model and category for the weekly and monthly leaderboards',
    // A month of the hourly table is 720 hours × every endpoint × category; rankings read whole days from
    // here and only the partial days at a window's edges from the hourly table. Filled from the hourly
    // table before the view exists (guarded, so a re-run after a crash adds nothing twice); rows inserted
    // between those two statements are not counted here, so run migrations before ingest consumes, as every
    // role does at start.
    statements: [
      `CREATE TABLE IF NOT EXISTS usage_daily_model (
        day Date,
        model LowCardinality(String),
        author LowCardinality(String),
        category LowCardinality(String),
        ${USAGE_MEASURES}
      ) ENGINE = SummingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (day, model, category, author)`,
      `INSERT INTO usage_daily_model
        SELECT toDate(hour) AS day, model, author, category, ${USAGE_RESUM}
        FROM usage_hourly WHERE (SELECT count() FROM usage_daily_model) = 0
        GROUP BY day, model, author, category`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_model_mv TO usage_daily_model AS
        SELECT toDate(ts) AS day,
               ${MODEL_OF_REQUEST} AS model,
               splitByChar('/', model)[1] AS author,
               category,
               ${USAGE_SUMS}
        FROM requests
        GROUP BY day, model, author, category`,
    ],
  },
  {
    version: 7,
    name: 'apps: approximate distinct users',
    // Exact distinct users over a month meant merging every day's account set per app: seconds at tens of
    // millions of rows. uniqCombined64 is exact for small sets (so the k-anonymity threshold of a few users
    // stays exact) and within about 0.3% for large ones, and its states merge in fixed size. Old rows get
    // their states from the raw rows still kept (RETENTION_DAYS); duplicate states merge to the same count,
    // so a re-run after a crash changes nothing. Rows inserted while the view is being replaced would miss
    // their requests and tokens here: run migrations before ingest consumes, as every role does at start.
    statements: [
      `ALTER TABLE app_daily ADD COLUMN IF NOT EXISTS users_approx AggregateFunction(uniqCombined64, String)`,
      `DROP VIEW IF EXISTS app_daily_mv`,
      `ALTER TABLE app_daily DROP COLUMN IF EXISTS users`,
      `INSERT INTO app_daily (day, app, category, users_approx)
        SELECT toDate(ts) AS day, app, category, uniqCombined64State(account_id)
        FROM requests WHERE app != '' GROUP BY day, app, category`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS app_daily_mv TO app_daily AS
        SELECT toDate(ts) AS day, app, category,
               uniqCombined64State(account_id) AS users_approx,
               count() AS requests,
               sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE app != ''
        GROUP BY day, app, category`,
    ],
  },
  {
    version: 8,
    name: 'apps per hour',
    // Top apps over exactly the leaderboard's window: whole days from app_daily, the hours at either edge
    // from here (distinct-user states of both tables merge alike). Filled from the raw rows still kept
    // before the view exists, guarded like migration 6 (a re-run after a crash adds nothing twice); rows
    // inserted between those two statements are not counted here, so run migrations before ingest
    // consumes, as every role does at start.
    statements: [
      `CREATE TABLE IF NOT EXISTS app_hourly (
        hour DateTime('UTC'),
        app LowCardinality(String),
        category LowCardinality(String),
        users_approx AggregateFunction(uniqCombined64, String),
        requests SimpleAggregateFunction(sum, UInt64),
        tokens SimpleAggregateFunction(sum, UInt64)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(hour)
      ORDER BY (hour, app, category)`,
      `INSERT INTO app_hourly
        SELECT toStartOfHour(ts) AS hour, app, category, uniqCombined64State(account_id), count(), sum(tokens_prompt + tokens_completion)
        FROM requests WHERE app != '' AND (SELECT count() FROM app_hourly) = 0
        GROUP BY hour, app, category`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS app_hourly_mv TO app_hourly AS
        SELECT toStartOfHour(ts) AS hour, app, category,
               uniqCombined64State(account_id) AS users_approx,
               count() AS requests,
               sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE app != ''
        GROUP BY hour, app, category`,
    ],
  },
  {
    version: 9,
    name: 'endpoint minutes count only provider failures',
    // Failures were "anything but success, 429, 400/413 and the client leaving", so outcomes of the
    // router's own making (its errors, the request deadline, shutdown) counted against providers. Now an
    // explicit list: telemetry/event.ts PROVIDER_FAILURES (a unit test keeps the two equal). Run before
    // ingest starts, as every role does, so no attempt is inserted between the two statements.
    statements: [
      `DROP VIEW IF EXISTS endpoint_minute_mv`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS endpoint_minute_mv TO endpoint_minute AS
        SELECT toStartOfMinute(ts) AS minute, endpoint_id, provider, model,
               count() AS attempts,
               countIf(error_class = 'none') AS successes,
               countIf(error_class IN ('upstream_5xx', 'upstream_auth', 'timeout_connect', 'timeout_first_byte', 'timeout_idle', 'connection_error', 'malformed_response', 'stream_cut')) AS failures,
               countIf(error_class = 'rate_limited') AS rate_limited,
               countIf(error_class = 'upstream_4xx') AS client_errors,
               sumIf(tokens_completion, error_class = 'none' AND latency_ms > ttft_ms) AS decode_tokens,
               sumIf(toFloat64(latency_ms - ttft_ms), error_class = 'none' AND latency_ms > ttft_ms) AS decode_ms,
               quantilesTDigestStateIf(0.5, 0.9, 0.99)(latency_ms, error_class = 'none') AS latency,
               quantilesTDigestStateIf(0.5, 0.9, 0.99)(ttft_ms, error_class = 'none') AS ttft
        FROM attempts
        GROUP BY minute, endpoint_id, provider, model`,
    ],
  },
  {
    version: 10,
    name: 'requests: finish reasons, upstream id, external user, cached and reasoning tokens',
    statements: [
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS finish_reason LowCardinality(String) DEFAULT ''`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS native_finish_reason LowCardinality(String) DEFAULT ''`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS upstream_id String DEFAULT ''`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS external_user String DEFAULT ''`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS tokens_cached UInt32 DEFAULT 0`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS tokens_reasoning UInt32 DEFAULT 0`,
    ],
  },
  {
    version: 11,
    name: 'endpoint minutes measure throughput on streamed answers only',
    // A whole answer arrives at once: its time after the first byte made millions of tokens per second.
    // The condition is telemetry/event.ts THROUGHPUT_SAMPLE_SQL (a unit test keeps the two equal). Minutes
    // already aggregated keep what they held; the figures read the last day, so they clear within one.
    statements: [
      `DROP VIEW IF EXISTS endpoint_minute_mv`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS endpoint_minute_mv TO endpoint_minute AS
        SELECT toStartOfMinute(ts) AS minute, endpoint_id, provider, model,
               count() AS attempts,
               countIf(error_class = 'none') AS successes,
               countIf(error_class IN ('upstream_5xx', 'upstream_auth', 'timeout_connect', 'timeout_first_byte', 'timeout_idle', 'connection_error', 'malformed_response', 'stream_cut')) AS failures,
               countIf(error_class = 'rate_limited') AS rate_limited,
               countIf(error_class = 'upstream_4xx') AS client_errors,
               sumIf(tokens_completion, error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0) AS decode_tokens,
               sumIf(toFloat64(latency_ms - ttft_ms), error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0) AS decode_ms,
               quantilesTDigestStateIf(0.5, 0.9, 0.99)(latency_ms, error_class = 'none') AS latency,
               quantilesTDigestStateIf(0.5, 0.9, 0.99)(ttft_ms, error_class = 'none') AS ttft
        FROM attempts
        GROUP BY minute, endpoint_id, provider, model`,
    ],
  },
  {
    version: 12,
    name: 'rollups for revealed preference and model pages',
    // Revealed preference reads each account's weekly use of each model, and a model page its apps over a
    // week; from raw rows both grew with the number of requests (12 s a month at 50 M rows). Requests
    // routed by switchboard/auto are left out of the weekly use: the scores auto reads must not learn
    // from auto's own choices (a feedback loop). Filled from
    // the raw rows still kept before the views exist, guarded like migration 6; run before ingest
    // consumes, as every role does at start.
    statements: [
      `CREATE TABLE IF NOT EXISTS account_week_model (
        week Date,
        category LowCardinality(String),
        account_id String,
        model LowCardinality(String),
        tokens UInt64
      ) ENGINE = SummingMergeTree
      PARTITION BY toYYYYMM(week)
      ORDER BY (week, category, account_id, model)`,
      `INSERT INTO account_week_model
        SELECT toMonday(ts) AS week, category, account_id, served_model AS model, sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE status = 200 AND served_model != '' AND NOT startsWith(requested_model, 'switchboard/auto')
          AND (SELECT count() FROM account_week_model) = 0
        GROUP BY week, category, account_id, model`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS account_week_model_mv TO account_week_model AS
        SELECT toMonday(ts) AS week, category, account_id, served_model AS model, sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE status = 200 AND served_model != '' AND NOT startsWith(requested_model, 'switchboard/auto')
        GROUP BY week, category, account_id, model`,
      `CREATE TABLE IF NOT EXISTS app_model_daily (
        day Date,
        model LowCardinality(String),
        app LowCardinality(String),
        users_approx AggregateFunction(uniqCombined64, String),
        requests SimpleAggregateFunction(sum, UInt64),
        tokens SimpleAggregateFunction(sum, UInt64)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (model, day, app)`,
      `INSERT INTO app_model_daily
        SELECT toDate(ts) AS day, ${MODEL_OF_REQUEST} AS model, app, uniqCombined64State(account_id), count(), sum(tokens_prompt + tokens_completion)
        FROM requests WHERE app != '' AND (SELECT count() FROM app_model_daily) = 0
        GROUP BY day, model, app`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS app_model_daily_mv TO app_model_daily AS
        SELECT toDate(ts) AS day, ${MODEL_OF_REQUEST} AS model, app,
               uniqCombined64State(account_id) AS users_approx,
               count() AS requests,
               sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE app != ''
        GROUP BY day, model, app`,
    ],
  },
  {
    version: 13,
    name: 'endpoint hours with latency and throughput digests',
    // Model pages chart each provider's latency and throughput percentiles over weeks; the per-minute
    // table is too fine for that and keeps no throughput digest. Time to first token and latency of
    // answers, and tokens per second of streamed answers after the first token (telemetry/event.ts
    // THROUGHPUT_SAMPLE_SQL, as in migration 11). Filled from the raw attempts still kept, guarded like
    // migration 6; run before ingest consumes, as every role does at start.
    statements: [
      `CREATE TABLE IF NOT EXISTS endpoint_hour (
        hour DateTime('UTC'),
        model LowCardinality(String),
        provider LowCardinality(String),
        endpoint_id LowCardinality(String),
        attempts SimpleAggregateFunction(sum, UInt64),
        successes SimpleAggregateFunction(sum, UInt64),
        failures SimpleAggregateFunction(sum, UInt64),
        ttft AggregateFunction(quantilesTDigest(0.5, 0.75, 0.9, 0.99), Float32),
        latency AggregateFunction(quantilesTDigest(0.5, 0.75, 0.9, 0.99), Float32),
        throughput AggregateFunction(quantilesTDigest(0.5, 0.25, 0.1, 0.01), Float64)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(hour)
      ORDER BY (model, hour, provider, endpoint_id)`,
      `INSERT INTO endpoint_hour
        SELECT toStartOfHour(ts) AS hour, model, provider, endpoint_id,
               count(),
               countIf(error_class = 'none'),
               countIf(error_class IN ('upstream_5xx', 'upstream_auth', 'timeout_connect', 'timeout_first_byte', 'timeout_idle', 'connection_error', 'malformed_response', 'stream_cut')),
               quantilesTDigestStateIf(0.5, 0.75, 0.9, 0.99)(ttft_ms, error_class = 'none'),
               quantilesTDigestStateIf(0.5, 0.75, 0.9, 0.99)(latency_ms, error_class = 'none'),
               quantilesTDigestStateIf(0.5, 0.25, 0.1, 0.01)(tokens_completion / ((latency_ms - ttft_ms) / 1000),
                 error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0)
        FROM attempts WHERE (SELECT count() FROM endpoint_hour) = 0
        GROUP BY hour, model, provider, endpoint_id`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS endpoint_hour_mv TO endpoint_hour AS
        SELECT toStartOfHour(ts) AS hour, model, provider, endpoint_id,
               count() AS attempts,
               countIf(error_class = 'none') AS successes,
               countIf(error_class IN ('upstream_5xx', 'upstream_auth', 'timeout_connect', 'timeout_first_byte', 'timeout_idle', 'connection_error', 'malformed_response', 'stream_cut')) AS failures,
               quantilesTDigestStateIf(0.5, 0.75, 0.9, 0.99)(ttft_ms, error_class = 'none') AS ttft,
               quantilesTDigestStateIf(0.5, 0.75, 0.9, 0.99)(latency_ms, error_class = 'none') AS latency,
               quantilesTDigestStateIf(0.5, 0.25, 0.1, 0.01)(tokens_completion / ((latency_ms - ttft_ms) / 1000),
                 error_class = 'none' AND streamed AND latency_ms > ttft_ms AND tokens_completion > 0) AS throughput
        FROM attempts
        GROUP BY hour, model, provider, endpoint_id`,
    ],
  },
  {
    version: 14,
    name: 'requests: session and step; tokens per day, model, account and session; where auto routing sends traffic',
    // Agent sessions: the calls of one run carry its id and their step. The rollup keeps each day's
    // served tokens per model, category, account and session ('' outside sessions), so the public share of a
    // model's tokens spent in multi-call sessions reads no raw rows; auto_daily keeps where switchboard/auto
    // sent traffic, per day, category, serving model and first choice (they differ after a failover).
    // Filled from the raw rows kept before
    // the view exists, guarded like migration 6; run before ingest consumes, as every role does at start.
    statements: [
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS session_id String DEFAULT ''`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS step String DEFAULT ''`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS auto_choice LowCardinality(String) DEFAULT ''`,
      `CREATE TABLE IF NOT EXISTS session_usage (
        day Date,
        model LowCardinality(String),
        category LowCardinality(String),
        account_id String,
        session_id String,
        requests UInt64,
        tokens UInt64
      ) ENGINE = SummingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (day, model, category, account_id, session_id)`,
      `INSERT INTO session_usage
        SELECT toDate(ts) AS day, served_model AS model, category, account_id, session_id, count(), sum(tokens_prompt + tokens_completion)
        FROM requests WHERE served_model != '' AND (SELECT count() FROM session_usage) = 0
        GROUP BY day, model, category, account_id, session_id`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS session_usage_mv TO session_usage AS
        SELECT toDate(ts) AS day, served_model AS model, category, account_id, session_id,
               count() AS requests, sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE served_model != ''
        GROUP BY day, model, category, account_id, session_id`,
      `CREATE TABLE IF NOT EXISTS auto_daily (
        day Date,
        category LowCardinality(String),
        model LowCardinality(String),
        chosen LowCardinality(String),
        requests UInt64,
        tokens UInt64
      ) ENGINE = SummingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (day, category, model, chosen)`,
      `INSERT INTO auto_daily
        SELECT toDate(ts) AS day, category, served_model AS model, auto_choice AS chosen, count(), sum(tokens_prompt + tokens_completion)
        FROM requests WHERE startsWith(requested_model, 'switchboard/auto') AND served_model != '' AND (SELECT count() FROM auto_daily) = 0
        GROUP BY day, category, model, chosen`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS auto_daily_mv TO auto_daily AS
        SELECT toDate(ts) AS day, category, served_model AS model, auto_choice AS chosen, count() AS requests, sum(tokens_prompt + tokens_completion) AS tokens
        FROM requests WHERE startsWith(requested_model, 'switchboard/auto') AND served_model != ''
        GROUP BY day, category, model, chosen`,
    ],
  },
  {
    version: 15,
    name: 'governance: keys, organisation policies, the audit log and the requests refused by a policy',
    // Keys and policies are small and few: each change is a new row, the highest version wins (read with
    // FINAL). The audit log is append-only, one hash chain per organisation ordered by seq; it never
    // expires. policy_denials keeps the requests a policy refused, so the key authority can audit each
    // once without scanning raw requests.
    statements: [
      `CREATE TABLE IF NOT EXISTS api_keys (
        id String,
        org_id String,
        version UInt64,
        record String
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY id`,
      `CREATE TABLE IF NOT EXISTS org_policies (
        org_id String,
        version UInt64,
        policy String,
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY org_id`,
      `CREATE TABLE IF NOT EXISTS audit_log (
        org_id String,
        seq UInt64,
        at DateTime64(3, 'UTC'),
        actor String,
        kind LowCardinality(String),
        target String,
        before String,
        after String,
        prev_hash String,
        hash String
      ) ENGINE = MergeTree
      ORDER BY (org_id, seq)`,
      `ALTER TABLE requests ADD COLUMN IF NOT EXISTS policy String DEFAULT ''`,
      `CREATE TABLE IF NOT EXISTS policy_denials (
        ts DateTime64(3, 'UTC'),
        generation_id String,
        key_id String,
        account_id String,
        requested_model String,
        policy String
      ) ENGINE = ReplacingMergeTree
      ORDER BY generation_id`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS policy_denials_mv TO policy_denials AS
        SELECT ts, generation_id, key_id, account_id, requested_model, policy FROM requests WHERE error_class = 'policy_denied'`,
    ],
  },
];

/** Tables whose rows expire after the configured retention. */
export const RAW_TABLES = ['requests', 'attempts'] as const;
