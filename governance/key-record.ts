// An API key as every router knows it (its SHA-256, never the key itself), and an organisation's policy:
// the messages of the key channel, which the key authority (the analytics role) publishes and every
// router reads — the compacted topic switchboard.keys.v1 in cluster mode, the supervisor's hub otherwise.
import { createHash, randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Nullable } from '../core/nullable.ts';
import { decodeChecked } from '../telemetry/signal.ts';
import { BUDGET_PERIODS, PolicySchema } from './policy.ts';

const Time = Type.String({ maxLength: 40, description: 'ISO 8601, UTC' });
const Id = Type.String({ minLength: 1, maxLength: 128 });

export const KeyRecordSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ maxLength: 256 }),
    account_id: Id,
    org_id: Id,
    hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** A management key manages its organisation's keys and policies; it cannot call models. */
    management: Type.Boolean(),
    created_at: Time,
    updated_at: Nullable(Time),
    revoked_at: Nullable(Time),
    disabled: Type.Boolean(),
    expires_at: Nullable(Time),
    /** Requests per minute; null: the service default. */
    rate_limit_per_minute: Nullable(Type.Integer({ minimum: 1 })),
    /** USD; null: no limit. */
    spend_limit_usd: Nullable(Type.Number({ minimum: 0 })),
    /** The period the spend limit counts over (OpenRouter's limit_reset); null: all time. */
    limit_reset: Nullable(Type.Union(BUDGET_PERIODS.map((p) => Type.Literal(p)))),
    policy: Nullable(PolicySchema),
    /** Step name (X-Switchboard-Step) → the category switchboard/auto routes that step as. */
    auto_steps: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
export type KeyRecord = Static<typeof KeyRecordSchema>;

export const OrgPolicySchema = Type.Object({ org_id: Id, policy: Nullable(PolicySchema), updated_at: Time }, { additionalProperties: false });
export type OrgPolicy = Static<typeof OrgPolicySchema>;

export const KEY_MESSAGE_VERSION = 1;
const KeyMessageSchema = Type.Union([
  Type.Object({ v: Type.Literal(KEY_MESSAGE_VERSION), kind: Type.Literal('key'), key: KeyRecordSchema }, { additionalProperties: false }),
  Type.Object({ v: Type.Literal(KEY_MESSAGE_VERSION), kind: Type.Literal('organization'), organization: OrgPolicySchema }, { additionalProperties: false }),
]);
export type KeyMessage = Static<typeof KeyMessageSchema>;
const check = TypeCompiler.Compile(KeyMessageSchema);

export const keyMessage = (key: KeyRecord): KeyMessage => ({ v: KEY_MESSAGE_VERSION, kind: 'key', key });
export const orgMessage = (organization: OrgPolicy): KeyMessage => ({ v: KEY_MESSAGE_VERSION, kind: 'organization', organization });

/** The channel's key for a message: compaction keeps the latest of each key and of each organisation. */
export const keyMessageKey = (m: KeyMessage): string => (m.kind === 'key' ? `key:${m.key.id}` : `org:${m.organization.org_id}`);

export const encodeKeyMessage = (m: KeyMessage): string => JSON.stringify(m);

export function decodeKeyMessage(value: Buffer | string | null): { ok: true; message: KeyMessage } | { ok: false; reason: string } {
  const d = decodeChecked(check, value);
  return d.ok ? { ok: true, message: d.value } : d;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

const KEY_PREFIX = 'sk-sb-v1-';

export function newKeySecret(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** A key record with the defaults of every field a key made outside the management API leaves out. */
export function keyRecord(k: Pick<KeyRecord, 'id' | 'name' | 'account_id' | 'hash'> & Partial<KeyRecord>): KeyRecord {
  return {
    org_id: k.account_id,
    management: false,
    created_at: new Date().toISOString(),
    updated_at: null,
    revoked_at: null,
    disabled: false,
    expires_at: null,
    rate_limit_per_minute: null,
    spend_limit_usd: null,
    limit_reset: null,
    policy: null,
    ...k,
  };
}
