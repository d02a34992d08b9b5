// The operator's key file, DATA_DIR/keys.json: what `npm run keys` writes on the server's own disk, so a
// first management key can be made before any API can be called. The key authority imports every change
// of it into the key store (and the audit log) within a second; routers never read it. Hashes only.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hashKey, keyRecord, newKeySecret, type KeyRecord } from './key-record.ts';

export interface NewFileKey {
  name: string;
  accountId?: string;
  orgId?: string;
  management?: boolean;
  rateLimitPerMinute?: number;
  spendLimitUsd?: number;
}

export class KeyFile {
  private mtimeMs = -2;

  constructor(readonly path: string) {}

  /** Every record of the file, with the fields older files lack filled in; throws when it cannot be read. */
  read(): KeyRecord[] {
    let parsed: { keys?: unknown };
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { keys?: unknown };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read key file ${this.path}: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed?.keys)) throw new Error(`cannot read key file ${this.path}: it has no "keys" array`);
    return (parsed.keys as KeyRecord[]).map((k) => keyRecord(k));
  }

  /** The records when the file changed since the last call (undefined: unchanged). */
  readIfChanged(): KeyRecord[] | undefined {
    let mtime = -1;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
      mtime = -1;
    }
    if (mtime === this.mtimeMs) return undefined;
    this.mtimeMs = mtime;
    return this.read();
  }

  create(opts: NewFileKey): { secret: string; record: KeyRecord } {
    const records = this.read();
    const secret = newKeySecret();
    const accountId = opts.accountId ?? `acct_${randomBytes(6).toString('hex')}`;
    const record = keyRecord({
      id: `key_${randomBytes(6).toString('hex')}`,
      name: opts.name,
      account_id: accountId,
      org_id: opts.orgId ?? accountId,
      hash: hashKey(secret),
      management: opts.management ?? false,
      rate_limit_per_minute: opts.rateLimitPerMinute ?? null,
      spend_limit_usd: opts.spendLimitUsd ?? null,
    });
    this.save([...records, record]);
    return { secret, record };
  }

  /** Revoke by id or name; returns the revoked records. */
  revoke(idOrName: string): KeyRecord[] {
    const records = this.read();
    const hit = records.filter((r) => r.revoked_at === null && (r.id === idOrName || r.name === idOrName));
    for (const r of hit) r.revoked_at = new Date().toISOString();
    if (hit.length) this.save(records);
    return hit;
  }

  private save(records: KeyRecord[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ keys: records }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
