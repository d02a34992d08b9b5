// Environment parsed once at start into a typed, frozen object. Every problem is collected and reported
// together, so an operator fixes a bad deployment in one go instead of one variable per restart.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from './paths.ts';
import { configFileProblems, type ConfigFile, type KeyEntryConfig, type ModelEntryConfig } from './config-file.ts';

export const ROLES = ['all', 'router', 'ingest', 'analytics', 'data', 'simulator'] as const;
export type Role = (typeof ROLES)[number];

export interface ProviderConfig {
  /** Provider slug as the catalog names it, e.g. `together`. */
  name: string;
  baseUrl: string;
  api: 'openai' | 'anthropic';
  /** Name of the environment variable holding this provider's API key (the key itself never sits in a file). */
  apiKeyEnv?: string;
}

/** Set by the supervisor (service/supervisor/) for the processes it starts; never by an operator. */
export interface Supervision {
  /** A router's number: its local log is `DATA_DIR/log/p<worker>`. */
  worker: number;
  /** Where a router sends what it does not serve itself (analytics, the web pages). */
  dataUrl: string | undefined;
  /** The data process's first start under this supervisor: it hands the routers the spend ClickHouse holds. */
  seedSpend: boolean;
  /** The data process runs the demo population (the bundled simulator, `DEMO=auto`). */
  demo: boolean;
}

export interface Config {
  role: Role;
  /** `npm start`: how many router processes share the port (the data process is one more). */
  routerWorkers: number;
  supervision: Supervision | undefined;
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  /** Nice value for the embedded service's threads other than the request path's (0: leave them). */
  backgroundNice: number;
  clickhouseUrl: string | undefined;
  kafkaBrokers: readonly string[] | undefined;
  devKey: string | undefined;
  providers: readonly ProviderConfig[];
  /** Models or endpoints the config file adds to the catalog. */
  extraModels: readonly ModelEntryConfig[];
  /** Keys from the config file (hashes only). */
  fileKeys: readonly KeyEntryConfig[];
  bodyLimitBytes: number;
  /** Connection limits of the HTTP server (service/http-limits.ts). */
  http: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number };
  /** How long a stop waits for requests in flight before it cuts them (streams end with an error chunk). */
  shutdownDrainMs: number;
  /** When set, /metrics and /docs (and /openapi.json) need `Authorization: Bearer <token>`. */
  opsToken: string | undefined;
  platformFeeRate: number;
  defaultRateLimitPerMinute: number;
  router: {
    maxAttempts: number;
    requestDeadlineMs: number;
    connectTimeoutMs: number;
    firstByteTimeoutMs: number;
    idleTimeoutMs: number;
    maxRetryAfterWaitMs: number;
    breakerConsecutiveFailures: number;
    breakerFailureRatio: number;
    breakerMinRequests: number;
    breakerWindowMs: number;
    breakerCooldownMs: number;
    /** Share of `switchboard/auto` requests that try another fitting model no dearer than the choice. */
    autoExploreShare: number;
  };
  telemetry: { queueMax: number; batchMax: number; flushIntervalMs: number; localLogMaxBytes: number };
  kafka: {
    topicPrefix: string;
    partitions: number;
    groupId: string;
    sessionTimeoutMs: number;
    commitDelayMs: number;
    lingerMs: number;
    batchMax: number;
    spoolMaxBytes: number;
    ingestLingerMs: number;
    ingestMaxRows: number;
  };
  /** A simulator running elsewhere (cluster mode): every catalog provider is routed to `${url}/${provider}`. */
  simulatorUrl: string | undefined;
  /** The simulator role listens on `host` (loopback unless set); off loopback its fault admin needs `adminToken`. */
  simulator: { port: number; latencyScale: number; host: string; adminToken: string | undefined };
  retentionDays: number;
  /** Built public pages, served at / by the embedded service and the analytics role. */
  webDir: string;
  /** An app appears on public leaderboards only once this many distinct accounts used it (privacy). */
  appMinUsers: number;
  /** Revealed preference is recomputed at most this often (it is weekly; a month of raw rows takes seconds to read). */
  preferenceRefreshS: number;
  /** Rankings and model stats (public, the same for every caller) are recomputed at most this often; 0: on every request. */
  publicRefreshS: number;
  /** The closed loop: how analytics judges endpoints and how routers fold its signals in (README explains the defaults). */
  signals: SignalConfig;
  /** The demo for `npm start`: 'auto' backfills a simulated population when using the simulator on an empty database. */
  demo: { mode: 'auto' | 'off'; accounts: number; days: number; liveRps: number };
}

export interface SignalConfig {
  /** Signals are recomputed and published this often. */
  intervalMs: number;
  /** Status is judged on the attempts of the last `windowS` seconds, at most the latest `sampleMax` of them. */
  windowS: number;
  sampleMax: number;
  /** Latency quantiles use only the latest this-many successes: a slowdown shows within a second or two of traffic. */
  latencySample: number;
  /** Fewer attempts than this in the window: the status stays as it was (not enough evidence). */
  minRequests: number;
  /** Failure share (5xx, resets, timeouts, cut streams, malformed; not 400/413, not 429) at which an endpoint is down / degraded. */
  downErrorRate: number;
  degradedErrorRate: number;
  /** Share of attempts answered 429 at which an endpoint is degraded. */
  rateLimitedRate: number;
  /** Time to first token or latency this many times its own baseline and its peers' median: degraded. */
  slowFactor: number;
  /** Minutes of history behind the latency baseline. */
  baselineMinutes: number;
  /** How long a recovering endpoint takes to ramp back to its full weight. */
  recoverS: number;
  /** Share of a model's traffic a down / degraded endpoint keeps, so that its recovery is seen. */
  probeShare: number;
  degradedShare: number;
  /** A signal older than this is ignored: routers fall back to their own knowledge. */
  maxAgeMs: number;
  /** Learned traffic cap: set once this share of attempts gets 429, at this fraction of the accepted rate, grown by this fraction per quiet interval. */
  capTrigger: number;
  capMargin: number;
  capGrowth: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  str(name: string, def: string): string {
    const v = this.env[name];
    return v === undefined || v === '' ? def : v;
  }
  optional(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }
  int(name: string, def: number, min: number, max: number): number {
    return this.num(name, def, min, max, true);
  }
  float(name: string, def: number, min: number, max: number): number {
    return this.num(name, def, min, max, false);
  }
  private num(name: string, def: number, min: number, max: number, integer: boolean): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
      return def;
    }
    return n;
  }
  oneOf<T extends string>(name: string, def: T, allowed: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return def;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}=${JSON.stringify(raw)} must be one of ${allowed.join(', ')}`);
      return def;
    }
    return raw as T;
  }
  url(name: string): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      return raw;
    } catch {
      this.problems.push(`${name}=${JSON.stringify(raw)} must be an http(s) URL`);
      return undefined;
    }
  }
}

function readConfigFile(file: string | undefined, problems: string[]): ConfigFile {
  if (file === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`SWITCHBOARD_CONFIG=${file}: ${(err as Error).message}`);
    return {};
  }
  const found = configFileProblems(parsed);
  problems.push(...found);
  return found.length ? {} : (parsed as ConfigFile);
}

function readSupervision(text: string | undefined, problems: string[]): Supervision | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as Partial<Supervision>;
    if (Number.isInteger(s.worker) && typeof s.seedSpend === 'boolean' && typeof s.demo === 'boolean')
      return { worker: s.worker!, dataUrl: typeof s.dataUrl === 'string' ? s.dataUrl : undefined, seedSpend: s.seedSpend, demo: s.demo };
  } catch {
    // reported below
  }
  problems.push('SWITCHBOARD_SUPERVISION is set by the supervisor (npm start) and was not understood; do not set it by hand');
  return undefined;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export function loadConfig(env: Env = process.env, argv: readonly string[] = []): Config {
  const r = new Reader(env);
  const roleArg = argv[0];
  let role: Role = 'all';
  if (roleArg !== undefined) {
    if ((ROLES as readonly string[]).includes(roleArg)) role = roleArg as Role;
    else r.problems.push(`role ${JSON.stringify(roleArg)} must be one of ${ROLES.join(', ')}`);
  }
  const brokers = r.optional('KAFKA_BROKERS');
  const kafkaBrokers = brokers
    ?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (kafkaBrokers?.some((b) => !/^[^:\s]+:\d+$/.test(b))) r.problems.push(`KAFKA_BROKERS=${JSON.stringify(brokers)} must be host:port[,host:port…]`);
  const devKey = r.optional('SWITCHBOARD_DEV_KEY');
  if (devKey !== undefined && devKey.length < 16) r.problems.push('SWITCHBOARD_DEV_KEY must be at least 16 characters');
  const file = readConfigFile(r.optional('SWITCHBOARD_CONFIG'), r.problems);

  const config: Config = {
    role,
    routerWorkers: r.int('ROUTER_WORKERS', availableParallelism(), 1, 64),
    supervision: readSupervision(r.optional('SWITCHBOARD_SUPERVISION'), r.problems),
    host: r.str('HOST', '0.0.0.0'),
    port: r.int('PORT', 8080, 0, 65535),
    dataDir: resolve(r.str('DATA_DIR', './data')),
    logLevel: r.oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    backgroundNice: r.int('BACKGROUND_NICE', 10, 0, 19),
    clickhouseUrl: r.url('CLICKHOUSE_URL'),
    kafkaBrokers,
    devKey,
    providers: (file.providers ?? []).map((p) => ({ name: p.name, baseUrl: p.baseUrl.replace(/\/+$/, ''), api: p.api ?? 'openai', apiKeyEnv: p.apiKeyEnv })),
    extraModels: file.models ?? [],
    fileKeys: file.keys ?? [],
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    http: {
      requestTimeoutMs: r.int('HTTP_REQUEST_TIMEOUT_MS', 30_000, 1_000, 3_600_000),
      headersTimeoutMs: r.int('HTTP_HEADERS_TIMEOUT_MS', 10_000, 1_000, 600_000),
      keepAliveTimeoutMs: r.int('HTTP_KEEPALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
    },
    shutdownDrainMs: r.int('SHUTDOWN_DRAIN_MS', 20_000, 100, 600_000),
    opsToken: r.optional('OPS_TOKEN'),
    // OpenRouter charges 5.5% on credit purchases; the same default makes fee figures comparable.
    platformFeeRate: r.float('PLATFORM_FEE_RATE', 0.055, 0, 1),
    defaultRateLimitPerMinute: r.int('RATE_LIMIT_PER_MINUTE', 600, 1, 10_000_000),
    router: {
      maxAttempts: r.int('ROUTER_MAX_ATTEMPTS', 4, 1, 20),
      requestDeadlineMs: r.int('ROUTER_REQUEST_DEADLINE_MS', 120_000, 100, 3_600_000),
      connectTimeoutMs: r.int('UPSTREAM_CONNECT_TIMEOUT_MS', 3_000, 10, 120_000),
      firstByteTimeoutMs: r.int('UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 30_000, 10, 600_000),
      idleTimeoutMs: r.int('UPSTREAM_IDLE_TIMEOUT_MS', 30_000, 10, 600_000),
      maxRetryAfterWaitMs: r.int('ROUTER_MAX_RETRY_AFTER_WAIT_MS', 2_000, 0, 60_000),
      breakerConsecutiveFailures: r.int('BREAKER_CONSECUTIVE_FAILURES', 5, 1, 1000),
      breakerFailureRatio: r.float('BREAKER_FAILURE_RATIO', 0.5, 0.01, 1),
      breakerMinRequests: r.int('BREAKER_MIN_REQUESTS', 10, 1, 100_000),
      breakerWindowMs: r.int('BREAKER_WINDOW_MS', 30_000, 100, 3_600_000),
      breakerCooldownMs: r.int('BREAKER_COOLDOWN_MS', 5_000, 10, 600_000),
      autoExploreShare: r.float('AUTO_EXPLORE_SHARE', 0.02, 0, 0.5),
    },
    telemetry: {
      queueMax: r.int('TELEMETRY_QUEUE_MAX', 200_000, 100, 10_000_000),
      batchMax: r.int('TELEMETRY_BATCH_MAX', 20_000, 1, 1_000_000),
      flushIntervalMs: r.int('TELEMETRY_FLUSH_MS', 1_000, 10, 60_000),
      localLogMaxBytes: r.int('LOCAL_LOG_MAX_BYTES', 4 * 1024 ** 3, 1024, 2 ** 45),
    },
    kafka: {
      topicPrefix: r.str('KAFKA_TOPIC_PREFIX', ''),
      partitions: r.int('KAFKA_PARTITIONS', 4, 1, 1024),
      groupId: r.str('INGEST_GROUP_ID', 'switchboard-ingest'),
      // How long a crashed ingest process holds its partitions before the group hands them on.
      sessionTimeoutMs: r.int('INGEST_SESSION_TIMEOUT_MS', 10_000, 6_000, 300_000),
      // Fault injection for crash drills: widens the window between insert and offset commit.
      commitDelayMs: r.int('INGEST_COMMIT_DELAY_MS', 0, 0, 60_000),
      lingerMs: r.int('KAFKA_LINGER_MS', 20, 0, 10_000),
      batchMax: r.int('KAFKA_BATCH_MAX', 5_000, 1, 1_000_000),
      spoolMaxBytes: r.int('SPOOL_MAX_BYTES', 1024 ** 3, 1024, 2 ** 45),
      ingestLingerMs: r.int('INGEST_LINGER_MS', 100, 1, 10_000),
      ingestMaxRows: r.int('INGEST_MAX_ROWS', 200_000, 1, 1_000_000),
    },
    simulatorUrl: r.url('SIMULATOR_URL'),
    simulator: {
      port: r.int('SIMULATOR_PORT', 0, 0, 65535),
      latencyScale: r.float('SIMULATOR_LATENCY_SCALE', 1, 0, 100),
      host: r.str('SIMULATOR_HOST', '127.0.0.1'),
      adminToken: r.optional('SIMULATOR_ADMIN_TOKEN'),
    },
    retentionDays: r.int('RETENTION_DAYS', 400, 1, 36_500),
    webDir: resolve(r.str('WEB_DIR', resolve(PROJECT_ROOT, 'web', 'dist'))),
    appMinUsers: r.int('APP_MIN_USERS', 5, 1, 1_000_000),
    preferenceRefreshS: r.int('PREFERENCE_REFRESH_S', 300, 1, 86_400),
    publicRefreshS: r.int('PUBLIC_REFRESH_S', 30, 0, 3_600),
    signals: {
      intervalMs: r.int('SIGNALS_INTERVAL_MS', 1_000, 100, 2_000),
      windowS: r.int('SIGNALS_WINDOW_S', 10, 2, 600),
      sampleMax: r.int('SIGNALS_SAMPLE_MAX', 50, 5, 100_000),
      latencySample: r.int('SIGNALS_LATENCY_SAMPLE', 20, 3, 100_000),
      minRequests: r.int('SIGNALS_MIN_REQUESTS', 5, 1, 10_000),
      downErrorRate: r.float('SIGNALS_DOWN_ERROR_RATE', 0.5, 0.01, 1),
      degradedErrorRate: r.float('SIGNALS_DEGRADED_ERROR_RATE', 0.1, 0.001, 1),
      rateLimitedRate: r.float('SIGNALS_RATE_LIMITED_RATE', 0.25, 0.001, 1),
      slowFactor: r.float('SIGNALS_SLOW_FACTOR', 3, 1.1, 1000),
      baselineMinutes: r.int('SIGNALS_BASELINE_MINUTES', 30, 1, 1440),
      recoverS: r.int('SIGNALS_RECOVER_S', 15, 0, 3600),
      probeShare: r.float('SIGNALS_PROBE_SHARE', 0.01, 0, 0.5),
      degradedShare: r.float('SIGNALS_DEGRADED_SHARE', 0.02, 0, 0.5),
      maxAgeMs: r.int('SIGNALS_MAX_AGE_MS', 10_000, 500, 3_600_000),
      capTrigger: r.float('SIGNALS_CAP_TRIGGER', 0.05, 0.001, 1),
      capMargin: r.float('SIGNALS_CAP_MARGIN', 0.9, 0.1, 1),
      capGrowth: r.float('SIGNALS_CAP_GROWTH', 0.05, 0, 1),
    },
    demo: {
      mode: r.oneOf('DEMO', 'auto', ['auto', 'off']),
      accounts: r.int('DEMO_ACCOUNTS', 600, 1, 100_000),
      days: r.int('DEMO_DAYS', 56, 1, 730),
      liveRps: r.float('DEMO_LIVE_RPS', 3, 0, 1000),
    },
  };
  if (config.signals.degradedErrorRate > config.signals.downErrorRate) r.problems.push('SIGNALS_DEGRADED_ERROR_RATE must not exceed SIGNALS_DOWN_ERROR_RATE');
  if (role === 'simulator' && !isLoopback(config.simulator.host) && config.simulator.adminToken === undefined) {
    r.problems.push(`SIMULATOR_HOST=${config.simulator.host} is not loopback: set SIMULATOR_ADMIN_TOKEN, or anyone who reaches it can inject faults`);
  }
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) r.problems.push('HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  if (config.opsToken !== undefined && config.opsToken.length < 16) r.problems.push('OPS_TOKEN must be at least 16 characters');
  if (config.signals.maxAgeMs < 2 * config.signals.intervalMs)
    r.problems.push('SIGNALS_MAX_AGE_MS must be at least twice SIGNALS_INTERVAL_MS, or every signal would be stale on arrival');
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}
