// GET …/sessions and …/sessions/{id}: the caller's agent sessions (calls grouped by X-Switchboard-Session
// or `session_id`): per session its calls, models, steps, tokens, cost, latency and failovers; per session,
// each step's models and every call in order. Owner only: another account's session is simply not found.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ClickHouseClient } from '@clickhouse/client';
import { badRequest, notFound } from '../../core/errors.ts';
import { DAY_MS } from '../../core/time.ts';
import type { KeyStore } from '../../router/auth/key-store.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { underEveryBase } from '../../http/paths.ts';
import { errorResponses } from '../../http/schemas.ts';
import { sessionOf, sessionsOf } from '../../store/session-queries.ts';

const Summary = Type.Object({
  session_id: Type.String(),
  first_at: Type.String(),
  last_at: Type.String(),
  calls: Type.Integer(),
  failed: Type.Integer(),
  models: Type.Array(Type.String()),
  steps: Type.Array(Type.String()),
  tokens: Type.Integer(),
  cost_usd: Type.Number({ description: 'USD charged: provider cost and platform fee' }),
  latency_ms: Type.Integer({ description: 'the calls’ latencies added up' }),
  failovers: Type.Integer({ description: 'endpoints that failed before one answered, over all calls' }),
});

const ListQuery = Type.Object(
  {
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 7, description: 'sessions with calls in the last N days' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$' }) });

const SessionSchema = Type.Object({
  data: Type.Object({
    ...Summary.properties,
    per_step: Type.Array(
      Type.Object({
        step: Type.String({ description: "'' for calls without a step" }),
        calls: Type.Integer(),
        models: Type.Array(Type.Object({ model: Type.String(), calls: Type.Integer(), tokens: Type.Integer(), cost_usd: Type.Number() })),
        tokens: Type.Integer(),
        cost_usd: Type.Number(),
        latency_ms: Type.Integer(),
        failovers: Type.Integer(),
      }),
    ),
    calls: Type.Array(
      Type.Object({
        generation_id: Type.String(),
        at: Type.String(),
        step: Type.String(),
        requested_model: Type.String(),
        served_model: Type.String(),
        status: Type.Integer(),
        tokens: Type.Integer(),
        cost_usd: Type.Number(),
        latency_ms: Type.Integer(),
        fallback_depth: Type.Integer(),
      }),
    ),
  }),
});

export function registerSessionRoutes(app: FastifyInstance, deps: { keys: KeyStore; clickhouse: ClickHouseClient }): void {
  for (const url of underEveryBase('/sessions')) {
    app.get<{ Querystring: Static<typeof ListQuery> }>(
      url,
      {
        onRequest: requireKey(deps.keys),
        schema: {
          summary: "The caller's agent sessions, latest first",
          tags: ['usage'],
          security: [{ bearer: [] }],
          querystring: ListQuery,
          response: { 200: Type.Object({ data: Type.Array(Summary) }), ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const now = Date.now();
        const days = request.query.days ?? 7;
        return { data: await sessionsOf(deps.clickhouse, keyOf(request).account_id, now - days * DAY_MS, now + 1, request.query.limit ?? 100) };
      },
    );
    app.get<{ Params: Static<typeof Params> }>(
      `${url}/:id`,
      {
        onRequest: requireKey(deps.keys),
        schema: {
          summary: 'One of the caller’s sessions: per step and model, and every call in order',
          tags: ['usage'],
          security: [{ bearer: [] }],
          params: Params,
          response: { 200: SessionSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const id = request.params.id;
        if (id.trim() !== id) throw badRequest('a session id has no leading or trailing spaces', 'invalid_session', 'id');
        const s = await sessionOf(deps.clickhouse, keyOf(request).account_id, id);
        if (!s) throw notFound(`no session ${JSON.stringify(id)} for this account (calls appear within a few seconds)`, 'session_not_found');
        return { data: { ...s.summary, per_step: s.steps, calls: s.calls } };
      },
    );
  }
}
