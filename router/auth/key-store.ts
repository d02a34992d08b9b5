// The keys and organisation policies this process knows, by hash: what the key channel delivered from the
// key authority (every router reads it), plus keys that live in this process only (the development key,
// the config file's hashed keys, the demo's). Secrets never reach it except to be hashed.
import { hashKey, keyRecord, type KeyMessage, type KeyRecord } from '../../governance/key-record.ts';
import type { Policy } from '../../governance/policy.ts';

export { hashKey, newKeySecret, type KeyRecord } from '../../governance/key-record.ts';

export class KeyStore {
  private readonly byHash = new Map<string, KeyRecord>();
  private readonly byId = new Map<string, KeyRecord>();
  private readonly byOrg = new Map<string, Set<string>>();
  private readonly orgPolicies = new Map<string, Policy>();
  /** Keys of this process only: the channel never replaces them. */
  private readonly local = new Set<string>();

  /**
   * Hashes of secrets presented lately. Hashing was a few µs of every request on the router's one thread;
   * the secret is in this process's memory for each of its requests anyway, and only hashes ever leave
   * it. Bounded: a flood of made-up keys empties it instead of growing it.
   */
  private readonly hashOf = new Map<string, string>();

  /** A key that lives only in this process (the dev key, the demo's), never published. */
  addEphemeral(secret: string, name: string, accountId: string): KeyRecord {
    return this.addLocal(keyRecord({ id: `key_${hashKey(secret).slice(0, 12)}`, name, account_id: accountId, hash: hashKey(secret) }));
  }

  /** A key known by its hash only (from the config file), kept in this process. */
  addLocal(rec: KeyRecord): KeyRecord {
    this.local.add(rec.hash);
    this.put(rec);
    return rec;
  }

  /** A message of the key channel: a key's latest record, or an organisation's policy. */
  apply(m: KeyMessage): void {
    if (m.kind === 'organization') {
      if (m.organization.policy === null) this.orgPolicies.delete(m.organization.org_id);
      else this.orgPolicies.set(m.organization.org_id, m.organization.policy);
    } else if (!this.local.has(m.key.hash)) this.put(m.key);
  }

  /** The record of a presented secret, whether or not it is in force (the caller says why it is refused). */
  lookup(secret: string): KeyRecord | undefined {
    let h = this.hashOf.get(secret);
    if (h === undefined) {
      h = hashKey(secret);
      if (this.hashOf.size >= 4096) this.hashOf.clear();
      this.hashOf.set(secret, h);
    }
    return this.byHash.get(h);
  }

  get(id: string): KeyRecord | undefined {
    return this.byId.get(id);
  }

  list(): KeyRecord[] {
    return [...this.byId.values()];
  }

  /** The organisation's keys, revoked ones included (their spend still counts against its budgets). */
  keysOf(orgId: string): KeyRecord[] {
    return [...(this.byOrg.get(orgId) ?? [])].map((id) => this.byId.get(id)!);
  }

  orgPolicy(orgId: string): Policy | undefined {
    return this.orgPolicies.get(orgId);
  }

  private put(rec: KeyRecord): void {
    const before = this.byId.get(rec.id);
    if (before && before.hash !== rec.hash) this.byHash.delete(before.hash);
    if (before && before.org_id !== rec.org_id) this.byOrg.get(before.org_id)?.delete(rec.id);
    this.byId.set(rec.id, rec);
    this.byHash.set(rec.hash, rec);
    let ids = this.byOrg.get(rec.org_id);
    if (!ids) this.byOrg.set(rec.org_id, (ids = new Set()));
    ids.add(rec.id);
  }
}
