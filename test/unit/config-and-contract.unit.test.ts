import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../core/config.ts';
import { decodeEvent, decodeMessage, encodeEvent, encodeEvents, validateEvent, type RequestEvent } from '../../telemetry/event.ts';
import { RateLimiter } from '../../router/auth/rate-limit.ts';
import { KeyStore, hashKey } from '../../router/auth/key-store.ts';
import { KeyFile } from '../../governance/key-file.ts';
import { classify } from '../../router/classify.ts';
import { sampleRequestEvent } from '../fixtures/events.ts';
import { loadCatalog } from '../../catalog/catalog.ts';
import { attemptEvent, costOf, requestEvent } from '../../router/events.ts';
import { generationId } from '../../core/ids.ts';

describe('configuration', () => {
  it('has working defaults and is frozen', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.role).toBe('all');
    expect(c.kafkaBrokers).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.router)).toBe(true);
  });

  it('reports every bad variable at once, readably', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', PLATFORM_FEE_RATE: '2', KAFKA_BROKERS: 'nohost', CLICKHOUSE_URL: 'ftp://x', LOG_LEVEL: 'loud' }, ['routr']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'PLATFORM_FEE_RATE', 'KAFKA_BROKERS', 'CLICKHOUSE_URL', 'LOG_LEVEL', 'role']) expect(problems).toContain(name);
  });

  it('rejects signal settings that contradict each other or the 2-second cadence', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return '';
      } catch (e) {
        return (e as ConfigError).problems.join('\n');
      }
    };
    expect(problems({ SIGNALS_INTERVAL_MS: '5000' })).toContain('SIGNALS_INTERVAL_MS');
    expect(problems({ SIGNALS_DEGRADED_ERROR_RATE: '0.6', SIGNALS_DOWN_ERROR_RATE: '0.5' })).toContain('must not exceed SIGNALS_DOWN_ERROR_RATE');
    expect(problems({ SIGNALS_INTERVAL_MS: '2000', SIGNALS_MAX_AGE_MS: '3000' })).toContain('stale on arrival');
    expect(problems({ SIGNALS_INTERVAL_MS: '2000', SIGNALS_MAX_AGE_MS: '4000' })).toBe('');
  });

  it('reads how often public figures are recomputed, 0 meaning every request for rankings but not for preference', () => {
    expect(loadConfig({})).toMatchObject({ publicRefreshS: 30, preferenceRefreshS: 300 });
    expect(loadConfig({ PUBLIC_REFRESH_S: '0' }).publicRefreshS).toBe(0);
    for (const env of [{ PUBLIC_REFRESH_S: '-1' }, { PUBLIC_REFRESH_S: 'soon' }, { PREFERENCE_REFRESH_S: '0' }]) {
      expect(() => loadConfig(env)).toThrow(Object.keys(env)[0]);
    }
  });

  it('reads providers from the config file and rejects malformed entries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ providers: [{ name: 'together', baseUrl: 'https://api.together.xyz/', apiKeyEnv: 'TOGETHER_API_KEY' }] }));
    expect(loadConfig({ SWITCHBOARD_CONFIG: good }).providers).toEqual([{ name: 'together', baseUrl: 'https://api.together.xyz', api: 'openai', apiKeyEnv: 'TOGETHER_API_KEY' }]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ providers: [{ name: 'x', baseUrl: 'nope' }] }));
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: bad })).toThrow(/baseUrl/);
    const badKey = join(dir, 'bad-key.json');
    writeFileSync(badKey, JSON.stringify({ keys: [{ name: 'k', sha256: 'sk-plaintext-key', account: 'a' }], models: [{ id: 'no-slash', endpoints: [] }] }));
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: badKey })).toThrow(/keys\/0\/sha256/);
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: badKey })).toThrow(/models\/0\/id/);
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: join(dir, 'missing.json') })).toThrow(/SWITCHBOARD_CONFIG/);
  });
});

const sample: RequestEvent = { ...sampleRequestEvent, event_id: 'e1', generation_id: 'gen-1', account_id: 'a', key_id: 'k' };

describe('telemetry event contract', () => {
  it('accepts a valid event and round-trips it through the wire format', () => {
    expect(validateEvent(sample).ok).toBe(true);
    expect(decodeEvent(Buffer.from(JSON.stringify(sample)))).toEqual({ ok: true, event: sample });
  });

  it('the router builds attempt and request events that pass the contract', () => {
    const endpoint = loadCatalog().endpoint('groq:meta-llama/llama-3.3-70b-instruct')!;
    const id = { generationId: 'gen-abc', accountId: 'acct_1', keyId: 'key_1', streamed: true };
    const outcome = { status: 200, errorClass: 'none' as const, latencyMs: 12.3456, ttftMs: 3.21, tokensPrompt: 10, tokensCompletion: 5, costUsd: costOf(endpoint, 10, 5) };
    const attempt = attemptEvent(id, 0, Date.now(), endpoint, outcome);
    const answer = { finishReason: 'stop', nativeFinishReason: 'end_turn', upstreamId: 'msg_1', usage: { cached: 3, reasoning: 2 } };
    const request = requestEvent(
      id,
      Date.now(),
      {
        app: 'x',
        category: 'general',
        requestedModel: endpoint.model,
        endpoint,
        attempts: 1,
        fallbackDepth: 0,
        feeUsd: 0,
        externalUser: 'user-7',
        session: { id: 'run-42', step: 'plan' },
        answer,
      },
      outcome,
    );
    expect(validateEvent(attempt)).toMatchObject({ ok: true });
    expect(validateEvent(request)).toMatchObject({ ok: true });
    expect(request).toMatchObject({
      finish_reason: 'stop',
      native_finish_reason: 'end_turn',
      upstream_id: 'msg_1',
      external_user: 'user-7',
      tokens_cached: 3,
      tokens_reasoning: 2,
      session_id: 'run-42',
      step: 'plan',
    });
    expect(decodeEvent(encodeEvent(request))).toEqual({ ok: true, event: request });
    expect(attempt.cost_usd).toBe(0.00000985); // (10 × $0.59 + 5 × $0.79) per million, to the nano-dollar
    const failed = requestEvent(
      id,
      Date.now(),
      { app: '', category: 'general', requestedModel: 'm', endpoint: undefined, attempts: 0, fallbackDepth: 0, feeUsd: 0, externalUser: undefined, session: undefined },
      { ...outcome, status: 503, errorClass: 'circuit_open' },
    );
    expect(validateEvent(failed)).toMatchObject({ ok: true });
    expect(failed.provider).toBe('');
    // Optional fields left out are left out of the wire line, not written as null.
    expect(encodeEvent(failed)).not.toContain('external_user');
    expect(encodeEvent(failed)).not.toContain('session_id');
    expect(decodeEvent(encodeEvent(failed))).toEqual({ ok: true, event: failed });
  });

  it('the wire encoder writes what JSON.stringify would, escapes included, and a value breaking the contract as null', () => {
    const odd = { ...sample, app: 'quote " back\\ tab\t line\n nul\u0000 lone \ud800 emoji 🚀 é', category: '' };
    for (const e of [sample, odd]) {
      expect(JSON.parse(encodeEvent(e))).toEqual(JSON.parse(JSON.stringify(e)));
      expect(decodeEvent(encodeEvent(e))).toEqual({ ok: true, event: e });
    }
    const broken = decodeEvent(encodeEvent({ ...sample, tokens_prompt: Number.NaN }));
    expect(broken).toMatchObject({ ok: false, reason: expect.stringMatching(/tokens_prompt/) });
    const { streamed: _s, ...missing } = sample;
    expect(decodeEvent(encodeEvent(missing as RequestEvent))).toMatchObject({ ok: false, reason: expect.stringMatching(/streamed/) });
  });

  it('a Kafka message carries events as NDJSON; a bad line is reported alone, a single line keeps its bytes', () => {
    const a = { ...sample, event_id: 'a' };
    const b = { ...sample, event_id: 'b' };
    const lines = decodeMessage(Buffer.from(`${encodeEvents([a, b])}\n{"v":1}`));
    expect(lines.map((l) => l.result.ok)).toEqual([true, true, false]);
    expect(lines[2].line).toBe('{"v":1}');
    const binary = Buffer.from([0xff, 0xfe, 0x00]);
    expect(decodeMessage(binary)).toEqual([{ line: binary, result: { ok: false, reason: expect.stringMatching(/JSON/) } }]);
    expect(decodeMessage(null)[0].result).toEqual({ ok: false, reason: 'empty message' });
  });

  it('rejects wrong versions, missing fields, extra fields (like prompt text) and bad JSON with a reason', () => {
    expect(decodeEvent(JSON.stringify({ ...sample, v: 2 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/version/) });
    const { cost_usd: _c, ...missing } = sample;
    expect(validateEvent(missing)).toMatchObject({ ok: false, reason: expect.stringMatching(/cost_usd/) });
    expect(validateEvent({ ...sample, prompt: 'secret text' })).toMatchObject({ ok: false, reason: expect.stringMatching(/prompt/) });
    expect(decodeEvent('{not json')).toMatchObject({ ok: false, reason: expect.stringMatching(/JSON/) });
    expect(decodeEvent(null)).toMatchObject({ ok: false });
  });
});

describe('rate limiter', () => {
  it('allows a burst up to the limit, then refuses with Retry-After, then refills', () => {
    const r = new RateLimiter();
    for (let i = 0; i < 60; i++) expect(r.take('k', 60, 0).allowed).toBe(true);
    const refused = r.take('k', 60, 0);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    expect(r.take('k', 60, 1000).allowed).toBe(true); // one per second refills
    expect(r.take('other', 60, 0).allowed).toBe(true); // per key
  });
});

describe('key file and key store', () => {
  it('store only hashes; a router knows a key and its revocation from the key channel', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sb-keys-')), 'keys.json');
    const cli = new KeyFile(file);
    const { secret, record } = cli.create({ name: 'ci' });
    expect(readFileSync(file, 'utf8')).not.toContain(secret);
    expect(record.hash).toBe(hashKey(secret));
    const router = new KeyStore();
    expect(router.lookup(secret)).toBeUndefined();
    router.apply({ v: 1, kind: 'key', key: new KeyFile(file).read()[0] });
    expect(router.lookup(secret)?.id).toBe(record.id);
    expect(JSON.stringify(router.list())).not.toContain(secret);
    cli.revoke('ci');
    router.apply({ v: 1, kind: 'key', key: new KeyFile(file).read()[0] });
    expect(router.lookup(secret)?.revoked_at).not.toBeNull();
    expect(router.lookup('sk-sb-v1-unknown')).toBeUndefined();
  });
});

describe('category rules', () => {
  it('labels common request kinds', () => {
    expect(classify('Why does this python function raise a KeyError?')).toBe('programming');
    expect(classify('Translate this paragraph into French')).toBe('translation');
    expect(classify('Let us roleplay: you are a pirate captain')).toBe('roleplay');
    expect(classify('What is the weather like?')).toBe('general');
    expect(classify('const total = items.reduce(add)')).toBe('programming');
    expect(classify('Let me know what you think of the plan')).toBe('general');
  });
});

describe('generation ids', () => {
  it('are distinct, time-prefixed, and 12 base64url random characters each, across many pool refills', () => {
    const now = Date.UTC(2026, 11, 1);
    const ids = Array.from({ length: 5000 }, () => generationId(now));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(new RegExp(`^gen-${now.toString(36)}-[A-Za-z0-9_-]{12}$`));
  });
});
