// Keys, organisation policies and the audit log in ClickHouse (migration 15). Keys and policies are
// versioned rows read with FINAL; audit events are appended, never changed.
import type { ClickHouseClient } from '@clickhouse/client';
import type { AuditEvent, AuditKind, ChainHead } from '../governance/audit-chain.ts';
import type { KeyRecord, OrgPolicy } from '../governance/key-record.ts';
import { dateTime64, queryRows } from './clickhouse.ts';

export async function loadKeys(ch: ClickHouseClient): Promise<KeyRecord[]> {
  const rows = await queryRows<{ record: string }>(ch, 'SELECT record FROM api_keys FINAL');
  return rows.map((r) => JSON.parse(r.record) as KeyRecord);
}

export async function saveKey(ch: ClickHouseClient, rec: KeyRecord, version: number): Promise<void> {
  await ch.insert({ table: 'api_keys', values: [{ id: rec.id, org_id: rec.org_id, version, record: JSON.stringify(rec) }], format: 'JSONEachRow' });
}

export async function loadOrgPolicies(ch: ClickHouseClient): Promise<OrgPolicy[]> {
  const rows = await queryRows<{ org_id: string; policy: string; updated_at: number }>(
    ch,
    'SELECT org_id, policy, toUnixTimestamp64Milli(updated_at) AS updated_at FROM org_policies FINAL',
  );
  return rows.map((r) => ({ org_id: r.org_id, policy: r.policy === '' ? null : JSON.parse(r.policy), updated_at: new Date(Number(r.updated_at)).toISOString() }));
}

export async function saveOrgPolicy(ch: ClickHouseClient, p: OrgPolicy, version: number): Promise<void> {
  await ch.insert({
    table: 'org_policies',
    values: [{ org_id: p.org_id, version, policy: p.policy === null ? '' : JSON.stringify(p.policy), updated_at: dateTime64(Date.parse(p.updated_at)) }],
    format: 'JSONEachRow',
  });
}

export async function appendAudit(ch: ClickHouseClient, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await ch.insert({ table: 'audit_log', values: events.map((e) => ({ ...e, at: dateTime64(e.at) })), format: 'JSONEachRow' });
}

/** Each organisation's last event, where its chain goes on from. */
export async function auditHeads(ch: ClickHouseClient): Promise<Map<string, ChainHead>> {
  const rows = await queryRows<{ org_id: string; last_seq: string; last_hash: string }>(
    ch,
    'SELECT org_id, max(seq) AS last_seq, argMax(hash, seq) AS last_hash FROM audit_log GROUP BY org_id',
  );
  return new Map(rows.map((r) => [r.org_id, { seq: Number(r.last_seq), hash: r.last_hash }]));
}

// The time under a name of its own: an alias `at` would stand for the column in the WHERE clause.
const EVENT_COLUMNS = 'org_id, seq, toUnixTimestamp64Milli(at) AS at_ms, actor, kind, target, before, after, prev_hash, hash';
type EventRow = Omit<AuditEvent, 'seq' | 'at'> & { seq: string; at_ms: string };
const toEvent = ({ at_ms, ...r }: EventRow): AuditEvent => ({ ...r, seq: Number(r.seq), at: Number(at_ms) });

export interface AuditFilter {
  org: string;
  fromMs: number;
  toMs: number;
  actor: string | undefined;
  kind: AuditKind | undefined;
  limit: number;
  offset: number;
}

/** One organisation's events, newest first. */
export async function auditEvents(ch: ClickHouseClient, f: AuditFilter): Promise<AuditEvent[]> {
  const rows = await queryRows<EventRow>(
    ch,
    `SELECT ${EVENT_COLUMNS} FROM audit_log
      WHERE org_id = {org:String} AND at >= fromUnixTimestamp64Milli({from:Int64}) AND at < fromUnixTimestamp64Milli({to:Int64})
        AND ({actor:String} = '' OR actor = {actor:String}) AND ({kind:String} = '' OR kind = {kind:String})
      ORDER BY seq DESC LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
    { org: f.org, from: f.fromMs, to: f.toMs, actor: f.actor ?? '', kind: f.kind ?? '', limit: f.limit, offset: f.offset },
  );
  return rows.map(toEvent);
}

/** Every event of one organisation, or of all ('' ), for verification. */
export async function chainEvents(ch: ClickHouseClient, org: string): Promise<AuditEvent[]> {
  const rows = await queryRows<EventRow>(ch, `SELECT ${EVENT_COLUMNS} FROM audit_log WHERE {org:String} = '' OR org_id = {org:String} ORDER BY org_id, seq`, { org });
  return rows.map(toEvent);
}

export interface Denial {
  ts: number;
  generation_id: string;
  key_id: string;
  account_id: string;
  requested_model: string;
  policy: string;
}

/** Requests a policy refused that the audit log does not hold yet, oldest first. */
export async function unauditedDenials(ch: ClickHouseClient, limit: number): Promise<Denial[]> {
  const rows = await queryRows<Omit<Denial, 'ts'> & { ts: string }>(
    ch,
    `SELECT toUnixTimestamp64Milli(ts) AS ts, generation_id, key_id, account_id, requested_model, policy FROM policy_denials FINAL
      WHERE generation_id NOT IN (SELECT target FROM audit_log WHERE kind = 'request.denied')
      ORDER BY ts LIMIT {limit:UInt32}`,
    { limit },
  );
  return rows.map((r) => ({ ...r, ts: Number(r.ts) }));
}
