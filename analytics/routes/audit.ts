// GET …/audit: the organisation's audit log (changes to keys, limits and policies, and requests a policy
// refused), newest first, filtered by time, actor and kind; GET …/audit/verify checks its hash chain.
// Management keys only, each seeing its own organisation.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { badRequest } from '../../core/errors.ts';
import { AUDIT_KINDS, verifyChains, type AuditKind } from '../../governance/audit-chain.ts';
import type { AuditHeadFile } from '../../governance/audit-heads.ts';
import { keyOf, requireManagementKey } from '../../http/auth.ts';
import { underEveryBase } from '../../http/paths.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { auditEvents, chainEvents } from '../../store/governance-queries.ts';
import { MANAGE } from './keys.ts';

const Time = Type.String({ maxLength: 40, description: 'ISO 8601 time (UTC)' });
const Query = Type.Object(
  {
    from: Type.Optional(Time),
    to: Type.Optional(Time),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'a key id, or cli' })),
    kind: Type.Optional(Type.Union(AUDIT_KINDS.map((k) => Type.Literal(k)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
);

const EventSchema = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  actor: Type.String({ description: 'the management key (id) that made the change, cli for the key file, or the refused key' }),
  kind: Type.String(),
  target: Type.String({ description: "the key's id, the organisation, or the refused request's generation id" }),
  before: Type.Unknown({ description: 'the state before (null: none)' }),
  after: Type.Unknown({ description: 'the state after, or what was refused' }),
  prev_hash: Type.String(),
  hash: Type.String(),
});

const VerifySchema = Type.Object({
  data: Type.Object({ ok: Type.Boolean(), events: Type.Integer(), problems: Type.Array(Type.String()) }),
});

function timeParam(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw badRequest(`${name}=${text} is not an ISO 8601 time`, 'invalid_time', name);
  return t;
}

const parsed = (json: string): unknown => (json === '' ? null : JSON.parse(json));

export function registerAuditRoutes(app: FastifyInstance, deps: { keys: KeyStore; clickhouse: ClickHouseClient; heads: AuditHeadFile }): void {
  const onRequest = requireManagementKey(deps.keys);
  for (const url of underEveryBase('/audit')) {
    app.get<{ Querystring: Static<typeof Query> }>(
      url,
      {
        onRequest,
        schema: {
          ...MANAGE,
          summary: "The organisation's audit log, newest first (management key)",
          querystring: Query,
          response: { 200: Type.Object({ data: Type.Array(EventSchema) }), ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        const q = request.query;
        const fromMs = timeParam(q.from, 'from', 0);
        const toMs = timeParam(q.to, 'to', Date.now() + 1);
        if (fromMs >= toMs) throw badRequest('from must be before to', 'invalid_range', 'from');
        const events = await auditEvents(deps.clickhouse, {
          org: keyOf(request).org_id,
          fromMs,
          toMs,
          actor: q.actor,
          kind: q.kind as AuditKind | undefined,
          limit: q.limit ?? 100,
          offset: q.offset ?? 0,
        });
        return { data: events.map((e) => ({ ...e, at: new Date(e.at).toISOString(), before: parsed(e.before), after: parsed(e.after) })) };
      },
    );
    app.get(
      `${url}/verify`,
      {
        onRequest,
        schema: { ...MANAGE, summary: "Checks the organisation's audit chain end to end (management key)", response: { 200: VerifySchema, ...errorResponses(401, 403) } },
      },
      async (request) => {
        const org = keyOf(request).org_id;
        const head = deps.heads.read().get(org);
        const v = verifyChains(await chainEvents(deps.clickhouse, org), new Map(head ? [[org, head]] : []));
        return { data: { ok: v.ok, events: v.events, problems: v.problems } };
      },
    );
  }
}
