// Prometheus metrics, one registry per service instance (tests start several in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'switchboard_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'],
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'switchboard_chat_request_duration_seconds',
    help: 'Chat completion latency as the client saw it',
    labelNames: ['streamed', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly upstreamAttempts = new Counter({
    name: 'switchboard_upstream_attempts_total',
    help: 'Upstream attempts by provider and error class (none = success)',
    labelNames: ['provider', 'error_class'],
    registers: [this.registry],
  });
  readonly upstreamTtft = new Histogram({
    name: 'switchboard_upstream_ttft_seconds',
    help: 'Time to first token per upstream attempt',
    labelNames: ['provider'],
    buckets: [0.005, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly breakerState = new Gauge({
    name: 'switchboard_breaker_state',
    help: 'Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open',
    labelNames: ['endpoint'],
    registers: [this.registry],
  });
  readonly telemetryQueueDepth = new Gauge({ name: 'switchboard_telemetry_queue_depth', help: 'Telemetry events waiting for ingest', registers: [this.registry] });
  readonly telemetryDropped = new Gauge({ name: 'switchboard_telemetry_dropped_total', help: 'Telemetry events dropped past the queue limit', registers: [this.registry] });
  readonly telemetryWritten = new Counter({ name: 'switchboard_ingest_rows_total', help: 'Rows inserted into ClickHouse', labelNames: ['table'], registers: [this.registry] });
  readonly insertSeconds = new Histogram({
    name: 'switchboard_ingest_insert_seconds',
    help: 'ClickHouse insert duration',
    labelNames: ['table'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly insertErrors = new Counter({
    name: 'switchboard_ingest_insert_errors_total',
    help: 'Failed ClickHouse inserts (retried)',
    labelNames: ['table'],
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'switchboard_ingest_consumer_lag',
    help: 'Messages behind the end of each partition',
    labelNames: ['partition'],
    registers: [this.registry],
  });
  readonly consumedBatch = new Histogram({
    name: 'switchboard_ingest_batch_messages',
    help: 'Messages per consumed partition batch',
    buckets: [1, 10, 100, 1000, 10_000, 100_000],
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'switchboard_ingest_dead_letters_total',
    help: 'Messages sent to the DLQ, by reason kind',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly telemetryInvalid = new Counter({
    name: 'switchboard_telemetry_invalid_total',
    help: 'Embedded mode: events refused as invalid against the event contract (never written), by field',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly duplicatesSkipped = new Counter({
    name: 'switchboard_ingest_duplicates_skipped_total',
    help: 'Messages already in ClickHouse (replays) skipped',
    registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({ name: 'switchboard_telemetry_spool_bytes', help: 'Bytes of telemetry waiting in the disk spool', registers: [this.registry] });
  readonly spooledEvents = new Gauge({
    name: 'switchboard_telemetry_spooled_total',
    help: 'Events written to the disk spool while the broker was away',
    registers: [this.registry],
  });
  readonly replayedEvents = new Gauge({ name: 'switchboard_telemetry_replayed_total', help: 'Spooled events delivered to the broker later', registers: [this.registry] });

  readonly routeWeight = new Gauge({
    name: 'switchboard_route_weight',
    help: 'Routing weight in force per endpoint (price, speed, uptime and fleet signal)',
    labelNames: ['endpoint', 'model', 'provider'],
    registers: [this.registry],
  });
  readonly routeShare = new Gauge({
    name: 'switchboard_route_share',
    help: 'Probability of being first choice for a typical request to the model',
    labelNames: ['endpoint', 'model', 'provider'],
    registers: [this.registry],
  });
  readonly endpointStatus = new Gauge({
    name: 'switchboard_endpoint_status',
    help: 'Fleet signal per endpoint: 0 healthy, 1 recovering, 2 degraded, 3 down (absent: no signal)',
    labelNames: ['endpoint'],
    registers: [this.registry],
  });
  readonly signalAge = new Gauge({ name: 'switchboard_signal_age_seconds', help: 'Age of the newest signal received (stale past SIGNALS_MAX_AGE_MS)', registers: [this.registry] });
  readonly signalsComputed = new Gauge({ name: 'switchboard_signal_ticks_total', help: 'Signal computations run by this analytics process', registers: [this.registry] });
  readonly signalTickSeconds = new Gauge({ name: 'switchboard_signal_tick_seconds', help: 'Duration of the last signal computation', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

/** A validation reason as a metric label: its kind or field (before the colon), so label values stay few. */
export const reasonLabel = (reason: string) => reason.split(':')[0].slice(0, 40);
