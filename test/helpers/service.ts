import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { startService, type Service } from '../../service/server.ts';

export const DEV_KEY = 'test-dev-key-0123456789abcdef';

/** The embedded service on a loopback port, with its own data directory and a fast simulator. */
export async function startTestService(env: Record<string, string> = {}, random?: () => number, role?: string, clock?: () => number): Promise<Service> {
  const config = loadConfig(
    {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'switchboard-test-')),
      HOST: '127.0.0.1',
      PORT: '0',
      SWITCHBOARD_DEV_KEY: DEV_KEY,
      LOG_LEVEL: 'silent',
      SIMULATOR_LATENCY_SCALE: '0.01',
      TELEMETRY_FLUSH_MS: '100',
      DEMO: 'off',
      ...env,
    },
    role ? [role] : [],
  );
  return startService(config, { logger: createLogger(env.LOG_LEVEL ?? 'silent'), random, clock });
}

export const auth = (key = DEV_KEY) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

export const chatBody = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'Say hello to the router' }],
  max_tokens: 16,
  ...extra,
});

/** Wait until every emitted event has been written to ClickHouse. */
export async function flushTelemetry(s: Service): Promise<void> {
  const deadline = Date.now() + 15_000;
  const ingest = s.ingest!;
  while (s.bus.waiting > 0 || ingest.written + ingest.dropped < s.bus.accepted) {
    if (Date.now() > deadline) throw new Error(`telemetry not flushed: waiting ${s.bus.waiting}, written ${ingest.written} and dropped ${ingest.dropped} of ${s.bus.accepted}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Parse an SSE body into its data payloads (the last being "[DONE]"). */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n'),
    )
    .filter((d) => d !== '');
}

/** Wait until the service knows these keys from the key file, in force (or, `revoked`, revoked). */
export async function keysTaken(s: Service, secrets: readonly string[], revoked = false): Promise<void> {
  await eventually(
    async () => secrets.map((secret) => s.keys.lookup(secret)),
    (records) => records.every((k) => k !== undefined && (k.revoked_at !== null) === revoked),
    15_000,
  );
}

/** Poll until `check` is true (or fail with what it last saw). */
export async function eventually<T>(probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}
