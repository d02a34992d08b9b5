// The key authority: the one writer of keys, organisation policies and the audit log (the analytics role).
// Each change is appended to its organisation's audit chain, stored in ClickHouse, then published on the
// key channel to every router, in that order and one change at a time, so the chain's order is the order
// of the changes and an answer means the routers have been handed the change. It also imports the
// operator's key file (`npm run keys`) and audits every request a policy refused.
import type { ClickHouseClient } from '@clickhouse/client';
import { ApiError, badRequest, notFound } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { sealEvent, type AuditContent, type AuditKind, type ChainHead } from '../../governance/audit-chain.ts';
import type { AuditHeadFile } from '../../governance/audit-heads.ts';
import type { KeyFile } from '../../governance/key-file.ts';
import { hashKey, keyMessage, keyRecord, newKeySecret, orgMessage, type KeyMessage, type KeyRecord, type OrgPolicy } from '../../governance/key-record.ts';
import type { BudgetPeriod, Policy } from '../../governance/policy.ts';
import { randomBytes } from 'node:crypto';
import { appendAudit, auditHeads, loadKeys, loadOrgPolicies, saveKey, saveOrgPolicy, unauditedDenials } from '../../store/governance-queries.ts';

/** The fields of a key a management key sets (OpenRouter's names, and ours beside them). */
export interface KeySettings {
  name?: string;
  disabled?: boolean;
  limit?: number | null;
  limit_reset?: BudgetPeriod | null;
  expires_at?: string | null;
  rate_limit_per_minute?: number | null;
  policy?: Policy | null;
}

export interface AuthorityDeps {
  clickhouse: ClickHouseClient;
  /** Hands messages to every router (and this process's own key store); throws when they cannot be delivered. */
  publish: (messages: KeyMessage[]) => Promise<void>;
  file: KeyFile | undefined;
  heads: AuditHeadFile;
  log: Logger;
  now?: () => number;
}

const FILE_POLL_MS = 250;
const DENIAL_POLL_MS = 1000;
/** The operator's key file, as an audit actor. */
export const CLI_ACTOR = 'cli';

export class KeyAuthority {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly policies = new Map<string, OrgPolicy>();
  private heads = new Map<string, ChainHead>();
  /** Changes run one at a time: the audit chain's order is the order of the changes. */
  private serial: Promise<unknown> = Promise.resolve();
  /** Messages stored but not yet delivered (the channel was away): sent again on the next tick. */
  private undelivered: KeyMessage[] = [];
  private lastVersion = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  /** Why the key file could not be read at its last change (the keys stored before stay in force). */
  fileError: string | undefined;

  constructor(private readonly deps: AuthorityDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Loads what ClickHouse holds, hands all of it to the routers, imports the key file, then keeps watching both. */
  async start(): Promise<void> {
    const ch = this.deps.clickhouse;
    for (const k of await loadKeys(ch)) this.keys.set(k.id, k);
    for (const p of await loadOrgPolicies(ch)) this.policies.set(p.org_id, p);
    this.heads = await auditHeads(ch);
    this.undelivered = [...[...this.keys.values()].map(keyMessage), ...[...this.policies.values()].map(orgMessage)];
    await this.run(() => this.deliver());
    await this.run(() => this.importFile());
    const every = (ms: number, work: () => Promise<void>) => {
      // A tick still queued or running skips the next: a slow database must not pile ticks up.
      let pending = false;
      const t = setInterval(() => {
        if (pending) return;
        pending = true;
        void this.run(work)
          .catch((err) => this.deps.log.warn({ err: (err as Error).message }, 'key authority: retrying'))
          .finally(() => (pending = false));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(FILE_POLL_MS, async () => {
      await this.deliver();
      await this.importFile();
    });
    every(DENIAL_POLL_MS, () => this.auditDenials());
  }

  /** Stops watching; the change running finishes. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.serial.catch(() => undefined);
  }

  /** Where the chains' heads are kept apart from the database. */
  get headFile(): AuditHeadFile {
    return this.deps.heads;
  }

  keysOf(org: string): KeyRecord[] {
    return [...this.keys.values()].filter((k) => k.org_id === org);
  }

  /** A key of the organisation by its hash (revoked keys are gone, as OpenRouter deletes them). */
  key(org: string, hash: string): KeyRecord {
    const k = [...this.keys.values()].find((r) => r.hash === hash && r.org_id === org && r.revoked_at === null);
    if (!k) throw notFound(`no key of this organisation has hash ${hash}`, 'key_not_found');
    return k;
  }

  orgPolicy(org: string): OrgPolicy {
    return this.policies.get(org) ?? { org_id: org, policy: null, updated_at: new Date(0).toISOString() };
  }

  create(actor: KeyRecord, s: KeySettings & { name: string; account_id?: string; management?: boolean }): Promise<{ secret: string; record: KeyRecord }> {
    return this.run(async () => {
      // An account belongs to one organisation: a key may join only an account of the caller's.
      if (s.account_id !== undefined && !this.keysOf(actor.org_id).some((k) => k.account_id === s.account_id))
        throw badRequest(
          `account ${s.account_id} is not an account of organisation ${actor.org_id} (npm run keys -- create --account … --org … makes one)`,
          'unknown_account',
          'account_id',
        );
      const secret = newKeySecret();
      const record = keyRecord({
        id: `key_${randomBytes(6).toString('hex')}`,
        name: s.name,
        account_id: s.account_id ?? actor.account_id,
        org_id: actor.org_id,
        hash: hashKey(secret),
        management: s.management ?? false,
        created_at: new Date(this.now()).toISOString(),
        ...settings(s),
      });
      this.delivered(await this.commitKey(actor.id, 'key.created', undefined, record));
      return { secret, record };
    });
  }

  update(actor: KeyRecord, hash: string, s: KeySettings): Promise<KeyRecord> {
    return this.run(async () => {
      const before = this.key(actor.org_id, hash);
      if (before.id === actor.id && s.disabled === true) throw badRequest('a management key cannot disable itself', 'invalid_request', 'disabled');
      const after = { ...before, ...settings(s), updated_at: new Date(this.now()).toISOString() };
      this.delivered(await this.commitKey(actor.id, 'key.updated', before, after));
      return after;
    });
  }

  revoke(actor: KeyRecord, hash: string): Promise<KeyRecord> {
    return this.run(async () => {
      const before = this.key(actor.org_id, hash);
      const at = new Date(this.now()).toISOString();
      const after = { ...before, revoked_at: at, updated_at: at };
      this.delivered(await this.commitKey(actor.id, 'key.revoked', before, after));
      return after;
    });
  }

  setPolicy(actor: KeyRecord, policy: Policy | null): Promise<OrgPolicy> {
    return this.run(async () => {
      const before = this.policies.get(actor.org_id);
      const after: OrgPolicy = { org_id: actor.org_id, policy, updated_at: new Date(this.now()).toISOString() };
      await this.audit([{ org_id: after.org_id, actor: actor.id, kind: 'policy.updated', target: after.org_id, before: json(before?.policy), after: json(policy) }]);
      await saveOrgPolicy(this.deps.clickhouse, after, this.version());
      this.policies.set(after.org_id, after);
      this.delivered(await this.publish([orgMessage(after)]));
      return after;
    });
  }

  private run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /** Audits, stores and publishes a key's new record; whether the routers have been handed it. */
  private async commitKey(actor: string, kind: AuditKind, before: KeyRecord | undefined, after: KeyRecord): Promise<boolean> {
    // Audited first: a store failing after it leaves an event for a change that did not happen (the caller
    // sees the error), never a change without its event.
    await this.audit([{ org_id: after.org_id, actor, kind, target: after.id, before: json(before), after: json(after) }]);
    await saveKey(this.deps.clickhouse, after, this.version());
    this.keys.set(after.id, after);
    return this.publish([keyMessage(after)]);
  }

  /** Appends events to their chains, then keeps the new heads apart from the database. */
  private async audit(contents: Omit<AuditContent, 'seq' | 'at'>[]): Promise<void> {
    const heads = new Map(this.heads);
    const events = contents.map((c) => {
      const e = sealEvent(heads.get(c.org_id), { ...c, at: this.now() });
      heads.set(e.org_id, { seq: e.seq, hash: e.hash });
      return e;
    });
    await appendAudit(this.deps.clickhouse, events);
    this.heads = heads;
    this.deps.heads.write(heads);
  }

  /** Queues the messages and delivers everything queued; whether it was delivered (else it is retried every tick). */
  private publish(messages: KeyMessage[]): Promise<boolean> {
    this.undelivered.push(...messages);
    return this.deliver();
  }

  /** An answer to the management API says whether the routers have the change yet. */
  private delivered(ok: boolean): void {
    if (!ok)
      throw new ApiError(503, 'service_unavailable', 'not_delivered', 'the change is stored and audited, but the key channel is away: routers get it when it is back', {
        retryAfterSeconds: 1,
      });
  }

  private async deliver(): Promise<boolean> {
    if (this.undelivered.length === 0) return true;
    const batch = this.undelivered;
    try {
      await this.deps.publish(batch);
      this.undelivered = this.undelivered.slice(batch.length);
      return true;
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, messages: batch.length }, 'key changes not delivered to the routers; retrying');
      return false;
    }
  }

  /** The key file's new keys and revocations, as changes by the operator. */
  private async importFile(): Promise<void> {
    let records: KeyRecord[] | undefined;
    try {
      records = this.deps.file?.readIfChanged();
      if (records) this.fileError = undefined;
    } catch (err) {
      this.fileError = (err as Error).message;
      this.deps.log.error({ err: this.fileError }, 'the key file is unreadable; the keys stored before stay in force until it is fixed');
      return;
    }
    for (const r of records ?? []) {
      const known = this.keys.get(r.id);
      if (!known) await this.commitKey(CLI_ACTOR, r.revoked_at === null ? 'key.created' : 'key.revoked', undefined, r);
      else if (r.revoked_at !== null && known.revoked_at === null) await this.commitKey(CLI_ACTOR, 'key.revoked', known, { ...known, revoked_at: r.revoked_at });
    }
  }

  /** Each request a policy refused, once, as an event of the refused key's organisation. */
  private async auditDenials(): Promise<void> {
    const denials = await unauditedDenials(this.deps.clickhouse, 1000);
    if (denials.length === 0) return;
    await this.audit(
      denials.map((d) => ({
        org_id: this.keys.get(d.key_id)?.org_id ?? d.account_id,
        actor: d.key_id,
        kind: 'request.denied',
        target: d.generation_id,
        before: '',
        after: JSON.stringify({ requested_model: d.requested_model, policy: d.policy, at: new Date(d.ts).toISOString() }),
      })),
    );
  }

  /** Versions for ReplacingMergeTree: increasing within this authority, whatever the clock does. */
  private version(): number {
    this.lastVersion = Math.max(this.lastVersion + 1, this.now() * 1000);
    return this.lastVersion;
  }
}

const json = (v: unknown): string => (v === undefined || v === null ? '' : JSON.stringify(v));

/** KeySettings as record fields: only those given. */
function settings(s: KeySettings): Partial<KeyRecord> {
  const out: Partial<KeyRecord> = {};
  if (s.name !== undefined) out.name = s.name;
  if (s.disabled !== undefined) out.disabled = s.disabled;
  if (s.limit !== undefined) out.spend_limit_usd = s.limit;
  if (s.limit_reset !== undefined) out.limit_reset = s.limit_reset;
  if (s.expires_at !== undefined) out.expires_at = s.expires_at;
  if (s.rate_limit_per_minute !== undefined) out.rate_limit_per_minute = s.rate_limit_per_minute;
  if (s.policy !== undefined) out.policy = s.policy;
  return out;
}
