// The management API, as OpenRouter's keys API has it (…/keys, a key known by its SHA-256 `hash`, the
// secret shown once at creation, same field names), and the organisation's policy. Management keys only:
// each answer covers the caller's organisation, and every change goes through the key authority (stored,
// audited, handed to every router before the answer).
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Catalog } from '../../catalog/catalog.ts';
import { badRequest } from '../../core/errors.ts';
import { toNanoUsd } from '../../core/money.ts';
import type { KeyAuthority, KeySettings } from '../governance/authority.ts';
import type { KeyRecord } from '../../governance/key-record.ts';
import { BUDGET_PERIODS, PolicySchema, type Policy } from '../../governance/policy.ts';
import { keyOf, requireManagementKey } from '../../http/auth.ts';
import { underEveryBase } from '../../http/paths.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { spentByKeys, spentIn, type Spent } from '../../store/account-queries.ts';

const Period = Type.Union(BUDGET_PERIODS.map((p) => Type.Literal(p)));

export const KeyViewSchema = Type.Object({
  hash: Type.String({ description: 'SHA-256 of the key: how the API names it' }),
  name: Type.String(),
  label: Type.String(),
  disabled: Type.Boolean(),
  limit: Nullable(Type.Number({ description: 'USD; null: no limit' })),
  limit_remaining: Nullable(Type.Number()),
  limit_reset: Nullable(Period),
  include_byok_in_limit: Type.Boolean(),
  usage: Type.Number({ description: 'USD charged, all time' }),
  usage_daily: Type.Number(),
  usage_weekly: Type.Number(),
  usage_monthly: Type.Number(),
  created_at: Type.String(),
  updated_at: Nullable(Type.String()),
  expires_at: Nullable(Type.String()),
  // Switchboard's.
  id: Type.String(),
  account_id: Type.String(),
  management: Type.Boolean(),
  rate_limit_per_minute: Nullable(Type.Integer()),
  policy: Nullable(PolicySchema),
});

const Settings = {
  limit: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1e9, description: 'USD; null: no limit' }))),
  limit_reset: Type.Optional(Nullable({ ...Period, description: 'the limit counts per UTC day, week (from Monday) or month; null: all time' })),
  include_byok_in_limit: Type.Optional(Type.Boolean({ description: 'accepted for OpenRouter clients; there is no BYOK usage here' })),
  expires_at: Type.Optional(Nullable(Type.String({ maxLength: 40, description: 'ISO 8601 in UTC; the key stops working then' }))),
  rate_limit_per_minute: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 }))),
  policy: Type.Optional(Nullable(PolicySchema)),
};
const Name = Type.String({ minLength: 1, maxLength: 256 });

const CreateBody = Type.Object(
  {
    name: Name,
    ...Settings,
    management: Type.Optional(Type.Boolean({ default: false, description: 'a management key of the same organisation (it cannot call models)' })),
    account_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: "an account of the organisation; default: the management key's" })),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Object({ name: Type.Optional(Name), disabled: Type.Optional(Type.Boolean()), ...Settings }, { additionalProperties: false, minProperties: 1 });
const HashParams = Type.Object({ hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: "the key's SHA-256, as listed" }) });
const ListQuery = Type.Object(
  { offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })), include_disabled: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
const OrgPolicyView = Type.Object({ org_id: Type.String(), policy: Nullable(PolicySchema), updated_at: Type.String() });

const PAGE = 100;
/** The OpenAPI tag and security of every management route. */
export const MANAGE = { tags: ['management'], security: [{ bearer: [] }] };

export interface KeysRouteDeps {
  keys: KeyStore;
  authority: KeyAuthority;
  clickhouse: ClickHouseClient;
  catalog: Catalog;
}

function view(k: KeyRecord, s: Spent) {
  const used = spentIn(s, k.limit_reset);
  return {
    hash: k.hash,
    name: k.name,
    label: k.name,
    disabled: k.disabled,
    limit: k.spend_limit_usd,
    limit_remaining: k.spend_limit_usd === null ? null : Math.max(0, toNanoUsd(k.spend_limit_usd - used)),
    limit_reset: k.limit_reset,
    include_byok_in_limit: false,
    usage: s.total,
    usage_daily: s.day,
    usage_weekly: s.week,
    usage_monthly: s.month,
    created_at: k.created_at,
    updated_at: k.updated_at,
    expires_at: k.expires_at,
    id: k.id,
    account_id: k.account_id,
    management: k.management,
    rate_limit_per_minute: k.rate_limit_per_minute,
    policy: k.policy,
  };
}

/** What schemas cannot say: a time that parses and is UTC, names the catalog knows. */
function checkSettings(catalog: Catalog, s: KeySettings, now: number): void {
  if (s.expires_at !== undefined && s.expires_at !== null) {
    const t = Date.parse(s.expires_at);
    if (!/(Z|[+-]00:?00)$/.test(s.expires_at) || Number.isNaN(t))
      throw badRequest('expires_at must be an ISO 8601 time in UTC, e.g. 2027-01-31T23:59:59Z', 'invalid_expires_at', 'expires_at');
    if (t <= now) throw badRequest('expires_at must be in the future', 'invalid_expires_at', 'expires_at');
  }
  if (s.policy) checkPolicy(catalog, s.policy, 'policy');
}

export function checkPolicy(catalog: Catalog, p: Policy, param: string): void {
  for (const list of ['allow', 'deny'] as const) {
    const unknownModel = p.models?.[list]?.find((m) => !catalog.model(m));
    if (unknownModel)
      throw badRequest(`${param}.models.${list}: ${JSON.stringify(unknownModel)} is not a model in the catalog (GET /api/v1/models)`, 'unknown_model', `${param}.models.${list}`);
    const unknownProvider = p.providers?.[list]?.find((x) => !catalog.providers.has(x));
    if (unknownProvider)
      throw badRequest(
        `${param}.providers.${list}: ${JSON.stringify(unknownProvider)} is not a provider slug (GET /api/v1/providers)`,
        'unknown_provider',
        `${param}.providers.${list}`,
      );
  }
}

export function registerKeysRoutes(app: FastifyInstance, deps: KeysRouteDeps): void {
  const onRequest = requireManagementKey(deps.keys);
  const { authority, clickhouse } = deps;
  const views = async (records: KeyRecord[]) => {
    const spent = await spentByKeys(
      clickhouse,
      records.map((r) => r.id),
    );
    return records.map((r) => view(r, spent.get(r.id)!));
  };

  for (const url of underEveryBase('/keys')) {
    app.get<{ Querystring: Static<typeof ListQuery> }>(
      url,
      {
        onRequest,
        schema: {
          ...MANAGE,
          summary: "The organisation's keys, oldest first, 100 per page (management key)",
          querystring: ListQuery,
          response: { 200: Type.Object({ data: Type.Array(KeyViewSchema) }), ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        const { offset = 0, include_disabled = false } = request.query;
        const keys = authority
          .keysOf(keyOf(request).org_id)
          .filter((k) => k.revoked_at === null && (include_disabled || !k.disabled))
          .sort((a, b) => a.created_at.localeCompare(b.created_at));
        return { data: await views(keys.slice(offset, offset + PAGE)) };
      },
    );
    app.post<{ Body: Static<typeof CreateBody> }>(
      url,
      {
        onRequest,
        schema: {
          ...MANAGE,
          summary: 'Create a key of the organisation; the key itself is in this answer only (management key)',
          body: CreateBody,
          response: { 201: Type.Object({ data: KeyViewSchema, key: Type.String() }), ...errorResponses(400, 401, 403, 503) },
        },
      },
      async (request, reply) => {
        checkSettings(deps.catalog, request.body, Date.now());
        const { secret, record } = await authority.create(keyOf(request), request.body);
        reply.code(201);
        return { data: (await views([record]))[0], key: secret };
      },
    );
    app.get<{ Params: Static<typeof HashParams> }>(
      `${url}/:hash`,
      {
        onRequest,
        schema: {
          ...MANAGE,
          summary: 'One key of the organisation (management key)',
          params: HashParams,
          response: { 200: Type.Object({ data: KeyViewSchema }), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => ({ data: (await views([authority.key(keyOf(request).org_id, request.params.hash)]))[0] }),
    );
    app.patch<{ Params: Static<typeof HashParams>; Body: Static<typeof PatchBody> }>(
      `${url}/:hash`,
      {
        onRequest,
        schema: {
          ...MANAGE,
          summary: "Update a key's name, limits, policy, expiry, or disable it (management key)",
          params: HashParams,
          body: PatchBody,
          response: { 200: Type.Object({ data: KeyViewSchema }), ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        checkSettings(deps.catalog, request.body, Date.now());
        return { data: (await views([await authority.update(keyOf(request), request.params.hash, request.body)]))[0] };
      },
    );
    app.delete<{ Params: Static<typeof HashParams> }>(
      `${url}/:hash`,
      {
        onRequest,
        schema: {
          ...MANAGE,
          summary: 'Revoke a key: every router refuses it from then on (management key)',
          params: HashParams,
          response: { 200: Type.Object({ deleted: Type.Literal(true) }), ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        await authority.revoke(keyOf(request), request.params.hash);
        return { deleted: true as const };
      },
    );
  }

  for (const url of underEveryBase('/organization/policy')) {
    app.get(
      url,
      {
        onRequest,
        schema: { ...MANAGE, summary: "The organisation's policy (management key)", response: { 200: Type.Object({ data: OrgPolicyView }), ...errorResponses(401, 403) } },
      },
      async (request) => ({ data: authority.orgPolicy(keyOf(request).org_id) }),
    );
    app.put<{ Body: { policy: Policy | null } }>(
      url,
      {
        onRequest,
        schema: {
          ...MANAGE,
          summary: "Set the organisation's policy (null: none); every router applies it to the organisation's next requests (management key)",
          body: Type.Object({ policy: Nullable(PolicySchema) }, { additionalProperties: false }),
          response: { 200: Type.Object({ data: OrgPolicyView }), ...errorResponses(400, 401, 403, 503) },
        },
      },
      async (request) => {
        if (request.body.policy) checkPolicy(deps.catalog, request.body.policy, 'policy');
        return { data: await authority.setPolicy(keyOf(request), request.body.policy) };
      },
    );
  }
}
