// API keys, stored only as SHA-256 hashes (keys are 256-bit random, so a fast hash is enough: there is
// nothing to brute-force). The file is shared with the `keys` command line; the service re-reads it
// when it changes, so a key created or revoked from the shell takes effect without a restart.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KeyRecord {
  id: string;
  name: string;
  account_id: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  /** Requests per minute; null: the service default. */
  rate_limit_per_minute: number | null;
  /** USD; null: no limit. */
  spend_limit_usd: number | null;
  /** Step name (X-Switchboard-Step) → the category switchboard/auto routes that step as. */
  auto_steps?: Record<string, string>;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

const KEY_PREFIX = 'sk-sb-v1-';

export function newKeySecret(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export class KeyStore {
  private byHash = new Map<string, KeyRecord>();
  private records: KeyRecord[] = [];
  private mtimeMs = -1;
  private checkedAt = 0;

  /** Why the key file could not be read at its last change (the keys before it stay in force). */
  lastError: string | undefined;

  /**
   * A key file that cannot be read stops the start (the constructor throws). Once running, a file that
   * turns unreadable is reported through `onError` on every change and the keys already loaded stay in
   * force: a half-written or mistyped file must neither lock every client out nor be ignored in silence.
   */
  constructor(
    private readonly file: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.reload();
  }

  /** A key that lives only in this process (the dev key), never written to the file. */
  addEphemeral(secret: string, name: string, accountId: string): KeyRecord {
    return this.addHashed({ name, hash: hashKey(secret), accountId });
  }

  /** A key known by its hash only (from the config file), kept in memory. */
  addHashed(k: { name: string; hash: string; accountId: string; rateLimitPerMinute?: number; spendLimitUsd?: number; autoSteps?: Record<string, string> }): KeyRecord {
    const rec: KeyRecord = {
      id: `key_${k.hash.slice(0, 12)}`,
      name: k.name,
      account_id: k.accountId,
      hash: k.hash,
      created_at: new Date().toISOString(),
      revoked_at: null,
      rate_limit_per_minute: k.rateLimitPerMinute ?? null,
      spend_limit_usd: k.spendLimitUsd ?? null,
      ...(k.autoSteps ? { auto_steps: k.autoSteps } : {}),
    };
    this.ephemeral.set(rec.hash, rec);
    return rec;
  }
  private readonly ephemeral = new Map<string, KeyRecord>();

  /**
   * Hashes of secrets presented lately. Hashing was a few µs of every request on the router's one thread;
   * the secret is in this process's memory for each of its requests anyway, and only hashes ever reach
   * the disk. Bounded: a flood of made-up keys empties it instead of growing it.
   */
  private readonly hashOf = new Map<string, string>();

  /** The live key record for a presented secret, or undefined. */
  verify(secret: string, now = Date.now()): KeyRecord | undefined {
    let h = this.hashOf.get(secret);
    if (h === undefined) {
      h = hashKey(secret);
      if (this.hashOf.size >= 4096) this.hashOf.clear();
      this.hashOf.set(secret, h);
    }
    const eph = this.ephemeral.get(h);
    if (eph) return eph;
    // Re-check the file at most once a second, so an unknown-key flood costs no disk I/O.
    if (now - this.checkedAt > 1000) {
      this.checkedAt = now;
      this.reloadIfChanged();
    }
    const rec = this.byHash.get(h);
    return rec && rec.revoked_at === null ? rec : undefined;
  }

  list(): readonly KeyRecord[] {
    return this.records;
  }

  create(opts: { name: string; accountId?: string; rateLimitPerMinute?: number; spendLimitUsd?: number }): { secret: string; record: KeyRecord } {
    this.reload();
    const secret = newKeySecret();
    const record: KeyRecord = {
      id: `key_${randomBytes(6).toString('hex')}`,
      name: opts.name,
      account_id: opts.accountId ?? `acct_${randomBytes(6).toString('hex')}`,
      hash: hashKey(secret),
      created_at: new Date().toISOString(),
      revoked_at: null,
      rate_limit_per_minute: opts.rateLimitPerMinute ?? null,
      spend_limit_usd: opts.spendLimitUsd ?? null,
    };
    this.records.push(record);
    this.save();
    return { secret, record };
  }

  /** Revoke by id or name; returns the revoked records. */
  revoke(idOrName: string): KeyRecord[] {
    this.reload();
    const hit = this.records.filter((r) => r.revoked_at === null && (r.id === idOrName || r.name === idOrName));
    for (const r of hit) r.revoked_at = new Date().toISOString();
    if (hit.length) this.save();
    return hit;
  }

  private reloadIfChanged(): void {
    let mtime = -1;
    try {
      mtime = statSync(this.file).mtimeMs;
    } catch {
      mtime = -1;
    }
    if (mtime === this.mtimeMs) return;
    try {
      this.reload();
      this.lastError = undefined;
    } catch (err) {
      this.mtimeMs = mtime;
      this.lastError = (err as Error).message;
      this.onError(this.lastError);
    }
  }

  private reload(): void {
    let records: KeyRecord[];
    let mtime: number;
    try {
      mtime = statSync(this.file).mtimeMs;
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { keys?: unknown };
      if (!Array.isArray(parsed?.keys)) throw new Error('it has no "keys" array');
      records = parsed.keys as KeyRecord[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read key file ${this.file}: ${(err as Error).message}`);
      records = [];
      mtime = -1;
    }
    this.records = records;
    this.mtimeMs = mtime;
    this.byHash = new Map(this.records.map((r) => [r.hash, r]));
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ keys: this.records }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
    this.mtimeMs = statSync(this.file).mtimeMs;
    this.byHash = new Map(this.records.map((r) => [r.hash, r]));
  }
}
