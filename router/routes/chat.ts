import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ApiError, badRequest } from '../../core/errors.ts';
import { keyOf, requireKey } from '../../http/auth.ts';
import { headerText } from '../../http/header-text.ts';
import { limitBodyShape } from '../../http/body-shape.ts';
import { contentText } from '../../core/tokens.ts';
import type { KeyStore, KeyRecord } from '../auth/key-store.ts';
import type { RateLimiter } from '../auth/rate-limit.ts';
import { ChatRequestSchema, type ChatRequest } from '../chat-schema.ts';
import { handleChat, type ChatDeps } from '../chat.ts';
import { CATEGORIES, classify, isCategory } from '../classify.ts';
import { errorResponses } from '../../http/schemas.ts';

const Usage = Type.Object(
  { prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer(), cost: Type.Number(), platform_fee: Type.Number() },
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

export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDeps): void {
  app.post<{ Body: ChatRequest }>(
    '/v1/chat/completions',
    {
      onRequest: requireKey(deps.keys),
      preValidation: limitBodyShape(),
      schema: {
        summary: 'Chat completion, routed to the best live provider endpoint',
        description:
          'OpenAI chat completions with OpenRouter routing extensions (`models`, `provider`, `:floor`, `:nitro`). `stream: true` answers with server-sent events ending in `data: [DONE]`.',
        tags: ['router'],
        security: [{ bearer: [] }],
        body: ChatRequestSchema,
        response: { 200: ChatCompletionSchema, ...errorResponses(400, 401, 402, 404, 413, 429, 502, 503) },
      },
    },
    async (request, reply) => {
      const key = keyOf(request);
      applyRateLimit(deps, key, reply);
      const caller = {
        accountId: key.account_id,
        keyId: key.id,
        spendLimitUsd: key.spend_limit_usd,
        app: appOf(request.headers),
        category: categoryOf(request.headers, request.body),
      };
      return handleChat(deps.chat, request.body, caller, reply);
    },
  );
}
