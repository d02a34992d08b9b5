import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ApiError, badRequest, forbidden } from '../../core/errors.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { headerText } from '../../http/header-text.ts';
import { limitBodyShape } from '../../http/body-shape.ts';
import { contentText } from '../../core/tokens.ts';
import type { KeyStore, KeyRecord } from '../auth/key-store.ts';
import type { RateLimiter } from '../auth/rate-limit.ts';
import { budgetsOf } from '../../governance/budgets.ts';
import { ChatRequestSchema, CompletionRequestSchema, type ChatRequest, type CompletionRequest } from '../chat-schema.ts';
import { handleChat, type Caller, type ChatDeps } from '../chat.ts';
import { underEveryBase } from '../../http/paths.ts';
import { CATEGORIES, classify, isCategory } from '../classify.ts';
import { errorResponses } from '../../http/schemas.ts';

const Usage = Type.Object(
  {
    prompt_tokens: Type.Integer(),
    completion_tokens: Type.Integer(),
    total_tokens: Type.Integer(),
    cost: Type.Number({ description: 'USD charged to the key for this request: cost_details.upstream_inference_cost + cost_details.platform_fee' }),
    is_byok: Type.Boolean(),
    cost_details: Type.Object({ upstream_inference_cost: Type.Number(), platform_fee: Type.Number() }),
    prompt_tokens_details: Type.Object({ cached_tokens: Type.Integer() }),
    completion_tokens_details: Type.Object({ reasoning_tokens: Type.Integer() }),
  },
  { additionalProperties: true },
);

export const TextCompletionSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('text_completion'),
    created: Type.Integer(),
    model: Type.String(),
    provider: Type.String(),
    choices: Type.Array(Type.Object({ index: Type.Integer(), text: Type.String(), finish_reason: Type.String(), logprobs: Type.Null() }, { additionalProperties: true })),
    usage: Usage,
    routing: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);

export const ChatCompletionSchema = Type.Object(
  {
    id: Type.String({ description: 'generation id: look it up at GET /api/v1/generation?id=' }),
    object: Type.Literal('chat.completion'),
    created: Type.Integer(),
    model: Type.String(),
    provider: Type.String({ description: 'the provider that served the request' }),
    choices: Type.Array(
      Type.Object(
        {
          index: Type.Integer(),
          message: Type.Object(
            { role: Type.Literal('assistant'), content: Type.Union([Type.String(), Type.Null()]), tool_calls: Type.Optional(Type.Array(Type.Unknown())) },
            { additionalProperties: true },
          ),
          finish_reason: Type.String(),
          logprobs: Type.Null(),
        },
        { additionalProperties: true },
      ),
    ),
    usage: Usage,
    routing: Type.Optional(Type.Unknown({ description: 'routing explanation, when switchboard.explain was set' })),
  },
  { additionalProperties: true },
);

export interface ChatRouteDeps {
  chat: ChatDeps;
  keys: KeyStore;
  rateLimiter: RateLimiter;
}

/** The per-key request rate (per router: each router keeps its own buckets; README "Limits"). */
function applyRateLimit(deps: ChatRouteDeps, key: KeyRecord, reply: FastifyReply): void {
  const limit = key.rate_limit_per_minute ?? deps.chat.config.defaultRateLimitPerMinute;
  const d = deps.rateLimiter.take(key.id, limit);
  reply.header('x-ratelimit-limit', String(d.limit));
  reply.header('x-ratelimit-remaining', String(d.remaining));
  reply.header('x-ratelimit-reset', String(d.resetSeconds));
  if (!d.allowed) {
    throw new ApiError(429, 'rate_limit_error', 'rate_limit_exceeded', `rate limit of ${limit} requests per minute for this key exceeded; retry in ${d.retryAfterSeconds} s`, {
      retryAfterSeconds: d.retryAfterSeconds,
    });
  }
}

/** The app: X-Title, else the host of HTTP-Referer. */
function appOf(headers: Record<string, string | string[] | undefined>): string {
  const title = headers['x-title'];
  if (typeof title === 'string' && title.trim() !== '') return headerText(title).trim().slice(0, 128);
  const referer = headers['http-referer'] ?? headers.referer;
  if (typeof referer === 'string') {
    try {
      return new URL(referer).host.slice(0, 128);
    } catch {
      return '';
    }
  }
  return '';
}

function categoryOf(headers: Record<string, string | string[] | undefined>, req: ChatRequest): string {
  const declared = headers['x-switchboard-category'];
  if (typeof declared === 'string' && declared !== '') {
    const c = declared.trim().toLowerCase();
    if (!isCategory(c)) throw badRequest(`X-Switchboard-Category must be one of ${CATEGORIES.join(', ')}`, 'invalid_category', 'X-Switchboard-Category');
    return c;
  }
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  return classify(lastUser ? contentText(lastUser.content) : '');
}

const LABEL = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;

/** The session a call belongs to and its step: the header, else the body's `session_id`; printable text of at most 128 characters. */
function sessionOf(headers: Record<string, string | string[] | undefined>, req: ChatRequest): Caller['session'] {
  const header = headers['x-switchboard-session'];
  const id = typeof header === 'string' && header !== '' ? header.trim() : req.session_id;
  const rawStep = headers['x-switchboard-step'];
  const step = typeof rawStep === 'string' && rawStep !== '' ? rawStep.trim() : undefined;
  if (id !== undefined && !LABEL.test(id)) throw badRequest('a session id is 1 to 128 printable ASCII characters', 'invalid_session', 'session_id');
  if (step !== undefined && !LABEL.test(step)) throw badRequest('X-Switchboard-Step is 1 to 128 printable ASCII characters', 'invalid_step', 'X-Switchboard-Step');
  if (step !== undefined && id === undefined) throw badRequest('X-Switchboard-Step needs a session (X-Switchboard-Session or session_id)', 'invalid_step', 'X-Switchboard-Step');
  return id === undefined ? undefined : { id, step };
}

/** The caller of a request whose key the onRequest hook has checked. */
function callerOf(deps: ChatRouteDeps, request: FastifyRequest, reply: FastifyReply, body: ChatRequest): Caller {
  const key = keyOf(request);
  if (key.management) throw forbidden('a management key manages keys and policies (/api/v1/keys); it cannot call models', 'management_key');
  applyRateLimit(deps, key, reply);
  const orgPolicy = deps.keys.orgPolicy(key.org_id);
  return {
    accountId: key.account_id,
    keyId: key.id,
    spendLimitUsd: key.limit_reset === null ? key.spend_limit_usd : null,
    policies: [...(key.policy ? [{ name: `key ${key.name}`, policy: key.policy }] : []), ...(orgPolicy ? [{ name: `organization ${key.org_id}`, policy: orgPolicy }] : [])],
    budgets: budgetsOf(key, orgPolicy, () => deps.keys.keysOf(key.org_id).map((k) => k.id)),
    app: appOf(request.headers),
    category: categoryOf(request.headers, body),
    session: sessionOf(request.headers, body),
    autoSteps: key.auto_steps,
  };
}

/** The legacy completions body as a chat request: the prompt is the one user message. */
function asChat(body: CompletionRequest): ChatRequest {
  const { prompt, ...rest } = body;
  return { ...rest, messages: [{ role: 'user', content: typeof prompt === 'string' ? prompt : prompt[0] }] };
}

const ROUTE = { tags: ['router'], security: [{ bearer: [] }] };
const ERRORS = errorResponses(400, 401, 402, 403, 404, 413, 429, 502, 503);

export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDeps): void {
  const guard = { onRequest: requireKey(deps.keys), preValidation: limitBodyShape() };
  for (const url of underEveryBase('/chat/completions')) {
    app.post<{ Body: ChatRequest }>(
      url,
      {
        ...guard,
        schema: {
          ...ROUTE,
          summary: 'Chat completion, routed to the best live provider endpoint',
          description:
            'OpenAI chat completions with OpenRouter routing options (`models`, `provider`, `:floor`, `:nitro`, `:free`). `stream: true` answers with server-sent events ending in `data: [DONE]`.',
          body: ChatRequestSchema,
          response: { 200: ChatCompletionSchema, ...ERRORS },
        },
      },
      async (request, reply) => handleChat(deps.chat, { req: request.body, caller: callerOf(deps, request, reply, request.body), reply, shape: 'chat' }),
    );
  }
  for (const url of underEveryBase('/completions')) {
    app.post<{ Body: CompletionRequest }>(
      url,
      {
        ...guard,
        schema: {
          ...ROUTE,
          summary: 'Text completion (legacy): `prompt` in, `choices[].text` out, routed like a chat completion',
          body: CompletionRequestSchema,
          response: { 200: TextCompletionSchema, ...ERRORS },
        },
      },
      async (request, reply) => {
        const req = asChat(request.body);
        return handleChat(deps.chat, { req, caller: callerOf(deps, request, reply, req), reply, shape: 'text' });
      },
    );
  }
}
