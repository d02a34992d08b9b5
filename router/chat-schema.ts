// The request schema of POST /v1/chat/completions: OpenAI's chat completions body plus OpenRouter's routing
// extensions. Unknown top-level fields pass through to OpenAI-compatible providers (clients send many);
// our own objects (`provider`, `switchboard`) reject unknown keys so a typo is reported, not ignored.
import { Type, type Static } from '@sinclair/typebox';

const Text = Type.String({ maxLength: 10_000_000 });
const ContentPart = Type.Object({ type: Type.String({ maxLength: 64 }), text: Type.Optional(Text) }, { additionalProperties: true });

export const MessageSchema = Type.Object(
  {
    role: Type.Union([Type.Literal('system'), Type.Literal('developer'), Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool')]),
    content: Type.Union([Text, Type.Array(ContentPart, { maxItems: 1000 }), Type.Null()]),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    tool_call_id: Type.Optional(Type.String({ maxLength: 256 })),
    tool_calls: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 128 })),
  },
  { additionalProperties: true },
);

export const SORTS = ['price', 'latency', 'throughput'] as const;
export const EFFORTS = ['xhigh', 'high', 'medium', 'low', 'minimal', 'none'] as const;
const ProviderSlugs = Type.Array(Type.String({ minLength: 1, maxLength: 64, description: 'provider slug or name, any case' }), { maxItems: 64 });
/** USD, as a number or a decimal string (OpenRouter's clients send either). */
const Price = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\d+(\\.\\d+)?$', maxLength: 32 })]);
const SortBy = Type.Union(SORTS.map((s) => Type.Literal(s)));
/** A soft threshold: one number (the median), or per percentile as OpenRouter accepts it. */
const Preference = (description: string) =>
  Type.Union(
    [
      Type.Number({ minimum: 0 }),
      Type.Object(
        {
          p50: Type.Optional(Type.Number({ minimum: 0 })),
          p75: Type.Optional(Type.Number({ minimum: 0 })),
          p90: Type.Optional(Type.Number({ minimum: 0 })),
          p99: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ],
    { description },
  );

export const ProviderPrefsSchema = Type.Object(
  {
    order: Type.Optional(ProviderSlugs),
    allow_fallbacks: Type.Optional(Type.Boolean()),
    only: Type.Optional(ProviderSlugs),
    ignore: Type.Optional(ProviderSlugs),
    sort: Type.Optional(
      Type.Union([
        SortBy,
        Type.Object(
          {
            by: SortBy,
            partition: Type.Optional(Type.Union([Type.Literal('model'), Type.Literal('none')], { description: 'none: sort the endpoints of every model in `models` together' })),
          },
          { additionalProperties: false },
        ),
      ]),
    ),
    max_price: Type.Optional(
      Type.Object(
        {
          prompt: Type.Optional(Price),
          completion: Type.Optional(Price),
          request: Type.Optional(Price),
          image: Type.Optional(Price),
          audio: Type.Optional(Price),
        },
        { additionalProperties: false, description: 'USD per million tokens (prompt, completion), per request, per image and per audio input' },
      ),
    ),
    preferred_min_throughput: Type.Optional(Preference('tokens per second: endpoints this router measures below it go after the others')),
    preferred_max_latency: Type.Optional(Preference('seconds to the first token: endpoints this router measures above it go after the others')),
    quantizations: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
    require_parameters: Type.Optional(Type.Boolean({ description: 'only endpoints that support every parameter the request sets' })),
    data_collection: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')], { description: 'deny: only providers that do not train on prompts' })),
    zdr: Type.Optional(Type.Boolean({ description: 'only providers that keep no prompts (zero data retention)' })),
  },
  { additionalProperties: false },
);

const ModelId = Type.String({ minLength: 1, maxLength: 256 });

export const ChatRequestSchema = Type.Object(
  {
    model: Type.Optional(ModelId),
    messages: Type.Array(MessageSchema, { minItems: 1, maxItems: 10_000 }),
    stream: Type.Optional(Type.Boolean()),
    stream_options: Type.Optional(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: true })),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    n: Type.Optional(Type.Literal(1, { description: 'only one choice per request is supported' })),
    stop: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 16 }), Type.Null()])),
    tools: Type.Optional(
      Type.Array(
        Type.Object(
          {
            type: Type.Literal('function'),
            function: Type.Object(
              {
                name: Type.String({ minLength: 1, maxLength: 128 }),
                description: Type.Optional(Type.String()),
                parameters: Type.Optional(Type.Object({}, { additionalProperties: true })),
              },
              { additionalProperties: true },
            ),
          },
          { additionalProperties: true },
        ),
        { maxItems: 512 },
      ),
    ),
    tool_choice: Type.Optional(Type.Unknown()),
    response_format: Type.Optional(
      Type.Object({ type: Type.Union([Type.Literal('text'), Type.Literal('json_object'), Type.Literal('json_schema')]) }, { additionalProperties: true }),
    ),
    user: Type.Optional(Type.String({ maxLength: 256 })),
    session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'groups the calls of one agent run or conversation (header X-Switchboard-Session too)' })),
    reasoning: Type.Optional(
      Type.Object(
        {
          effort: Type.Optional(Type.Union(EFFORTS.map((e) => Type.Literal(e)))),
          max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
          exclude: Type.Optional(Type.Boolean({ description: 'think, but leave the reasoning out of the answer' })),
          enabled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: true, description: 'forwarded as sent to OpenAI-compatible providers; extended thinking on the Messages API' },
      ),
    ),
    include_reasoning: Type.Optional(Type.Boolean()),
    usage: Type.Optional(Type.Object({ include: Type.Optional(Type.Boolean()) }, { additionalProperties: false, description: 'accepted: usage with cost is always included' })),
    transforms: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 8 })),
    models: Type.Optional(Type.Array(ModelId, { minItems: 1, maxItems: 10 })),
    provider: Type.Optional(ProviderPrefsSchema),
    switchboard: Type.Optional(
      Type.Object(
        {
          explain: Type.Optional(Type.Boolean({ description: 'include the routing explanation (candidates and their scores)' })),
          steps: Type.Optional(
            Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ maxLength: 32 }), {
              maxProperties: 64,
              description: 'per step name (X-Switchboard-Step), the category switchboard/auto routes that step as',
            }),
          ),
          auto: Type.Optional(
            Type.Object(
              {
                optimize: Type.Optional(Type.Union([Type.Literal('balanced'), Type.Literal('price'), Type.Literal('preference')], { default: 'balanced' })),
                min_score: Type.Optional(
                  Type.Union([Type.Number(), Type.String({ pattern: '^p(\\d{1,2}|100)$' })], { description: 'a score, or a percentile of the category\'s scores ("p75")' }),
                ),
                models: Type.Optional(Type.Array(ModelId, { minItems: 1, maxItems: 50, description: 'only these models may be chosen' })),
              },
              { additionalProperties: false, description: 'for model switchboard/auto[:category]' },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: true },
);

/** The legacy completions body: a chat request's options with `prompt` instead of `messages`. */
export const CompletionRequestSchema = Type.Composite(
  [Type.Omit(ChatRequestSchema, ['messages']), Type.Object({ prompt: Type.Union([Text, Type.Array(Text, { minItems: 1, maxItems: 1, description: 'one prompt per request' })]) })],
  { additionalProperties: true },
);

export type CompletionRequest = Static<typeof CompletionRequestSchema>;
export type ChatMessage = Static<typeof MessageSchema>;
export type ProviderPrefs = Static<typeof ProviderPrefsSchema>;
export type ChatRequest = Static<typeof ChatRequestSchema>;
