// The audit log's tamper evidence: each organisation's events form one hash chain (every event's hash
// covers its content and the previous event's hash), and the head of each chain is also kept apart from
// the database. A changed event breaks its own hash, a removed or reordered one breaks the chain, and
// removing the newest events shows against the head kept apart.
import { createHash } from 'node:crypto';

export const AUDIT_KINDS = ['key.created', 'key.updated', 'key.revoked', 'policy.updated', 'request.denied'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditContent {
  org_id: string;
  seq: number;
  /** ms since the epoch. */
  at: number;
  /** Who: the management key's id, `cli` for the operator's key file, or the refused key's id. */
  actor: string;
  kind: AuditKind;
  /** What: the key's id, the organisation, or the refused request's generation id. */
  target: string;
  /** JSON of the state before and after ('' when there is none). */
  before: string;
  after: string;
}

export interface AuditEvent extends AuditContent {
  prev_hash: string;
  hash: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/** The previous hash of an organisation's first event. */
export const GENESIS_HASH = '0'.repeat(64);

export function eventHash(prevHash: string, e: AuditContent): string {
  return createHash('sha256')
    .update(`${prevHash}\n${JSON.stringify([e.org_id, e.seq, e.at, e.actor, e.kind, e.target, e.before, e.after])}`)
    .digest('hex');
}

/** The next event of a chain whose head is `head` (undefined: the organisation's first). */
export function sealEvent(head: ChainHead | undefined, content: Omit<AuditContent, 'seq'>): AuditEvent {
  const prev = head?.hash ?? GENESIS_HASH;
  const e = { ...content, seq: (head?.seq ?? 0) + 1 };
  return { ...e, prev_hash: prev, hash: eventHash(prev, e) };
}

export interface Verification {
  ok: boolean;
  organizations: number;
  events: number;
  problems: string[];
}

/**
 * Checks every organisation's chain (events in any order) against the heads kept apart: each event's hash,
 * each link, the sequence without gaps, and the last event against its organisation's head.
 */
export function verifyChains(events: readonly AuditEvent[], heads: ReadonlyMap<string, ChainHead>): Verification {
  const byOrg = new Map<string, AuditEvent[]>();
  for (const e of events) byOrg.set(e.org_id, [...(byOrg.get(e.org_id) ?? []), e]);
  const problems: string[] = [];
  for (const [org, list] of byOrg) {
    list.sort((a, b) => a.seq - b.seq);
    let prev = GENESIS_HASH;
    let expected = 1;
    for (const e of list) {
      if (e.seq !== expected) problems.push(`${org}: event ${expected}${e.seq > expected + 1 ? `–${e.seq - 1}` : ''} missing (next present is ${e.seq})`);
      if (e.prev_hash !== prev) problems.push(`${org}: event ${e.seq} does not follow the event before it (its previous hash differs)`);
      if (eventHash(e.prev_hash, e) !== e.hash) problems.push(`${org}: event ${e.seq} (${e.kind} ${e.target}) was altered: its content no longer matches its hash`);
      prev = e.hash;
      expected = e.seq + 1;
    }
    const head = heads.get(org);
    const last = list[list.length - 1];
    if (head && (head.seq !== last.seq || head.hash !== last.hash))
      problems.push(`${org}: the log ends at event ${last.seq} but ${head.seq} events were recorded (events removed from its end, or its last altered)`);
  }
  for (const [org, head] of heads) if (!byOrg.has(org)) problems.push(`${org}: all ${head.seq} events are missing`);
  return { ok: problems.length === 0, organizations: new Set([...byOrg.keys(), ...heads.keys()]).size, events: events.length, problems };
}
