// The optional config file (SWITCHBOARD_CONFIG): real providers, extra models or endpoints for the
// catalog, and API keys (as hashes only). Validated against this schema; every problem is reported.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const Slug = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]*$' });
const Price = Type.Number({ minimum: 0, maximum: 10_000, description: 'USD per million tokens' });

const ProviderEntry = Type.Object(
  {
    name: Slug,
    baseUrl: Type.String({ pattern: '^https?://' }),
    api: Type.Optional(Type.Union([Type.Literal('openai'), Type.Literal('anthropic')])),
    apiKeyEnv: Type.Optional(Type.String({ minLength: 1 })),
    displayName: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const EndpointEntry = Type.Object(
  {
    provider: Slug,
    providerModelId: Type.Optional(Type.String({ minLength: 1 })),
    contextLength: Type.Integer({ minimum: 1 }),
    maxCompletionTokens: Type.Integer({ minimum: 1 }),
    pricePrompt: Price,
    priceCompletion: Price,
    quantization: Type.Optional(Type.String()),
    supportsTools: Type.Optional(Type.Boolean()),
    supportsResponseFormat: Type.Optional(Type.Boolean()),
    ttftMs: Type.Optional(Type.Number({ minimum: 0 })),
    tokensPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

const ModelEntry = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._:-]*$' }),
    name: Type.Optional(Type.String()),
    endpoints: Type.Array(EndpointEntry, { minItems: 1 }),
  },
  { additionalProperties: false },
);

const KeyEntry = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** SHA-256 of the key, hex: the key itself never sits in a file. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    account: Type.String({ minLength: 1 }),
    rateLimitPerMinute: Type.Optional(Type.Integer({ minimum: 1 })),
    spendLimitUsd: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Step name (X-Switchboard-Step) → the category switchboard/auto routes that step as (checked at start). */
    autoSteps: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ minLength: 1, maxLength: 32 }), { maxProperties: 64 })),
  },
  { additionalProperties: false },
);

export const ConfigFileSchema = Type.Object(
  {
    providers: Type.Optional(Type.Array(ProviderEntry)),
    models: Type.Optional(Type.Array(ModelEntry)),
    keys: Type.Optional(Type.Array(KeyEntry)),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;
export type ModelEntryConfig = Static<typeof ModelEntry>;
export type KeyEntryConfig = Static<typeof KeyEntry>;

const check = TypeCompiler.Compile(ConfigFileSchema);

/** Problems with a parsed config file, each naming where it is; empty when valid. */
export function configFileProblems(value: unknown): string[] {
  return [...check.Errors(value)].slice(0, 20).map((e) => `SWITCHBOARD_CONFIG ${e.path || '/'}: ${e.message}`);
}
