// Real models and provider endpoints. Prices are USD per million prompt/completion tokens as the providers
// publicly list them (provider price pages and the OpenRouter listing). Compiled on PRICES_COMPILED_ON from
// list prices as last recorded; refresh them before billing anyone. Speeds (time to first token, tokens/s)
// are typical observed figures and drive the simulator, not billing.
import type { Provider } from './types.ts';

export const PRICES_COMPILED_ON = '2026-11-21';

// Data policies as this catalog declares them for routing filters (training on prompts; keeping prompts at
// all): check each provider's current terms before relying on them for compliance.
export const PROVIDERS: Provider[] = [
  { slug: 'openai', name: 'OpenAI', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'azure', name: 'Azure', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'anthropic', name: 'Anthropic', api: 'anthropic', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'amazon-bedrock', name: 'Amazon Bedrock', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'google-vertex', name: 'Google Vertex', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'google-ai-studio', name: 'Google AI Studio', api: 'openai', dataPolicy: { training: true, retainsPrompts: true } },
  { slug: 'together', name: 'Together', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'fireworks', name: 'Fireworks', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'deepinfra', name: 'DeepInfra', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'groq', name: 'Groq', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'cerebras', name: 'Cerebras', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'sambanova', name: 'SambaNova', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'novita', name: 'NovitaAI', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'lambda', name: 'Lambda', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'nebius', name: 'Nebius AI Studio', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'hyperbolic', name: 'Hyperbolic', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'parasail', name: 'Parasail', api: 'openai', dataPolicy: { training: false, retainsPrompts: false } },
  { slug: 'mistral', name: 'Mistral', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'deepseek', name: 'DeepSeek', api: 'openai', dataPolicy: { training: true, retainsPrompts: true } },
  { slug: 'xai', name: 'xAI', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'cohere', name: 'Cohere', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'moonshotai', name: 'Moonshot AI', api: 'openai', dataPolicy: { training: true, retainsPrompts: true } },
  { slug: 'z-ai', name: 'Z.AI', api: 'openai', dataPolicy: { training: true, retainsPrompts: true } },
  { slug: 'alibaba', name: 'Alibaba Cloud', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'perplexity', name: 'Perplexity', api: 'openai', dataPolicy: { training: false, retainsPrompts: true } },
  { slug: 'minimax', name: 'MiniMax', api: 'openai', dataPolicy: { training: true, retainsPrompts: true } },
];

/**
 * One row per provider endpoint: provider, context, max output, $/M prompt, $/M completion, ttft ms, tok/s,
 * flags (t: tools, j: response_format), quantization, provider's own model id (defaults to the slug).
 */
export type EndpointRow = [string, number, number, number, number, number, number, string, string?, string?];

export interface ModelRow {
  id: string;
  name: string;
  endpoints: EndpointRow[];
}

export const MODELS: ModelRow[] = [
  // OpenAI
  {
    id: 'openai/gpt-5',
    name: 'GPT-5',
    endpoints: [
      ['openai', 400_000, 128_000, 1.25, 10, 2500, 60, 'tj', 'unknown', 'gpt-5'],
      ['azure', 400_000, 128_000, 1.25, 10, 2800, 55, 'tj', 'unknown', 'gpt-5'],
    ],
  },
  {
    id: 'openai/gpt-5-mini',
    name: 'GPT-5 Mini',
    endpoints: [
      ['openai', 400_000, 128_000, 0.25, 2, 1500, 90, 'tj', 'unknown', 'gpt-5-mini'],
      ['azure', 400_000, 128_000, 0.25, 2, 1700, 85, 'tj', 'unknown', 'gpt-5-mini'],
    ],
  },
  {
    id: 'openai/gpt-4o',
    name: 'GPT-4o',
    endpoints: [
      ['openai', 128_000, 16_384, 2.5, 10, 450, 95, 'tj', 'unknown', 'gpt-4o'],
      ['azure', 128_000, 16_384, 2.5, 10, 520, 85, 'tj', 'unknown', 'gpt-4o'],
    ],
  },
  {
    id: 'openai/gpt-4o-mini',
    name: 'GPT-4o-mini',
    endpoints: [
      ['openai', 128_000, 16_384, 0.15, 0.6, 380, 110, 'tj', 'unknown', 'gpt-4o-mini'],
      ['azure', 128_000, 16_384, 0.15, 0.6, 420, 100, 'tj', 'unknown', 'gpt-4o-mini'],
    ],
  },
  {
    id: 'openai/gpt-4.1',
    name: 'GPT-4.1',
    endpoints: [
      ['openai', 1_047_576, 32_768, 2, 8, 500, 90, 'tj', 'unknown', 'gpt-4.1'],
      ['azure', 1_047_576, 32_768, 2, 8, 560, 80, 'tj', 'unknown', 'gpt-4.1'],
    ],
  },
  { id: 'openai/gpt-4.1-mini', name: 'GPT-4.1 Mini', endpoints: [['openai', 1_047_576, 32_768, 0.4, 1.6, 400, 110, 'tj', 'unknown', 'gpt-4.1-mini']] },
  {
    id: 'openai/o4-mini',
    name: 'o4 Mini',
    endpoints: [
      ['openai', 200_000, 100_000, 1.1, 4.4, 3500, 120, 'tj', 'unknown', 'o4-mini'],
      ['azure', 200_000, 100_000, 1.1, 4.4, 3800, 110, 'tj', 'unknown', 'o4-mini'],
    ],
  },
  {
    id: 'openai/gpt-oss-120b',
    name: 'gpt-oss-120b',
    endpoints: [
      ['cerebras', 131_072, 32_768, 0.25, 0.69, 250, 2500, 'tj', 'fp16'],
      ['groq', 131_072, 32_766, 0.15, 0.75, 200, 500, 'tj', 'fp4'],
      ['deepinfra', 131_072, 16_384, 0.05, 0.45, 600, 120, 'tj', 'fp4'],
      ['together', 131_072, 32_768, 0.15, 0.6, 500, 150, 'tj', 'fp4'],
      ['fireworks', 131_072, 32_768, 0.15, 0.6, 450, 180, 'tj', 'fp4'],
      ['novita', 131_072, 32_768, 0.1, 0.5, 900, 90, 't', 'fp4'],
      ['nebius', 131_072, 32_768, 0.15, 0.6, 800, 100, 'tj', 'fp4'],
    ],
  },
  {
    id: 'openai/gpt-oss-20b',
    name: 'gpt-oss-20b',
    endpoints: [
      ['groq', 131_072, 32_768, 0.1, 0.5, 180, 900, 'tj', 'fp4'],
      ['deepinfra', 131_072, 16_384, 0.03, 0.15, 500, 160, 'tj', 'fp4'],
      ['together', 131_072, 32_768, 0.05, 0.2, 450, 200, 'tj', 'fp4'],
      ['fireworks', 131_072, 32_768, 0.07, 0.3, 400, 220, 'tj', 'fp4'],
    ],
  },

  // Anthropic
  {
    id: 'anthropic/claude-sonnet-4.5',
    name: 'Claude Sonnet 4.5',
    endpoints: [
      ['anthropic', 1_000_000, 64_000, 3, 15, 1600, 60, 'tj', 'unknown', 'claude-sonnet-4-5-20250929'],
      ['amazon-bedrock', 200_000, 64_000, 3, 15, 1800, 55, 'tj', 'unknown', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
      ['google-vertex', 200_000, 64_000, 3, 15, 1900, 52, 'tj', 'unknown', 'claude-sonnet-4-5@20250929'],
    ],
  },
  {
    id: 'anthropic/claude-sonnet-4',
    name: 'Claude Sonnet 4',
    endpoints: [
      ['anthropic', 200_000, 64_000, 3, 15, 1500, 58, 'tj', 'unknown', 'claude-sonnet-4-20250514'],
      ['amazon-bedrock', 200_000, 64_000, 3, 15, 1700, 52, 'tj', 'unknown', 'anthropic.claude-sonnet-4-20250514-v1:0'],
      ['google-vertex', 200_000, 64_000, 3, 15, 1800, 50, 'tj', 'unknown', 'claude-sonnet-4@20250514'],
    ],
  },
  {
    id: 'anthropic/claude-opus-4.1',
    name: 'Claude Opus 4.1',
    endpoints: [
      ['anthropic', 200_000, 32_000, 15, 75, 2000, 38, 'tj', 'unknown', 'claude-opus-4-1-20250805'],
      ['amazon-bedrock', 200_000, 32_000, 15, 75, 2300, 34, 'tj', 'unknown', 'anthropic.claude-opus-4-1-20250805-v1:0'],
      ['google-vertex', 200_000, 32_000, 15, 75, 2400, 33, 'tj', 'unknown', 'claude-opus-4-1@20250805'],
    ],
  },
  {
    id: 'anthropic/claude-haiku-4.5',
    name: 'Claude Haiku 4.5',
    endpoints: [
      ['anthropic', 200_000, 64_000, 1, 5, 700, 110, 'tj', 'unknown', 'claude-haiku-4-5-20251001'],
      ['amazon-bedrock', 200_000, 64_000, 1, 5, 800, 100, 'tj', 'unknown', 'anthropic.claude-haiku-4-5-20251001-v1:0'],
      ['google-vertex', 200_000, 64_000, 1, 5, 850, 95, 'tj', 'unknown', 'claude-haiku-4-5@20251001'],
    ],
  },
  {
    id: 'anthropic/claude-3.5-haiku',
    name: 'Claude 3.5 Haiku',
    endpoints: [
      ['anthropic', 200_000, 8_192, 0.8, 4, 650, 65, 't', 'unknown', 'claude-3-5-haiku-20241022'],
      ['amazon-bedrock', 200_000, 8_192, 0.8, 4, 750, 60, 't', 'unknown', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
    ],
  },

  // Google
  { id: 'google/gemini-2.5-pro', name: 'Gemini 2.5 Pro', endpoints: [['google-ai-studio', 1_048_576, 65_536, 1.25, 10, 3000, 85, 'tj', 'unknown', 'gemini-2.5-pro']] },
  { id: 'google/gemini-2.5-flash', name: 'Gemini 2.5 Flash', endpoints: [['google-ai-studio', 1_048_576, 65_535, 0.3, 2.5, 600, 180, 'tj', 'unknown', 'gemini-2.5-flash']] },
  {
    id: 'google/gemini-2.5-flash-lite',
    name: 'Gemini 2.5 Flash Lite',
    endpoints: [['google-ai-studio', 1_048_576, 65_535, 0.1, 0.4, 400, 250, 'tj', 'unknown', 'gemini-2.5-flash-lite']],
  },
  {
    id: 'google/gemma-3-27b-it',
    name: 'Gemma 3 27B',
    endpoints: [
      ['deepinfra', 131_072, 16_384, 0.09, 0.17, 500, 45, 'j', 'bf16'],
      ['novita', 98_304, 16_384, 0.119, 0.2, 900, 40, 'j', 'bf16'],
      ['parasail', 131_072, 16_384, 0.1, 0.4, 600, 55, 'j', 'bf16'],
      ['nebius', 131_072, 8_192, 0.1, 0.3, 700, 50, 'j', 'fp8'],
    ],
  },

  // Meta
  {
    id: 'meta-llama/llama-3.3-70b-instruct',
    name: 'Llama 3.3 70B Instruct',
    endpoints: [
      ['deepinfra', 131_072, 16_384, 0.23, 0.4, 450, 35, 'tj', 'fp8', 'meta-llama/Llama-3.3-70B-Instruct-Turbo'],
      ['groq', 131_072, 32_768, 0.59, 0.79, 200, 280, 't', 'unknown', 'llama-3.3-70b-versatile'],
      ['cerebras', 65_536, 8_192, 0.85, 1.2, 180, 2100, 't', 'fp16', 'llama-3.3-70b'],
      ['together', 131_072, 131_072, 0.88, 0.88, 350, 110, 'tj', 'fp8', 'meta-llama/Llama-3.3-70B-Instruct-Turbo'],
      ['fireworks', 131_072, 131_072, 0.9, 0.9, 380, 120, 'tj', 'fp16', 'accounts/fireworks/models/llama-v3p3-70b-instruct'],
      ['sambanova', 131_072, 3_072, 0.6, 1.2, 250, 400, 't', 'bf16', 'Meta-Llama-3.3-70B-Instruct'],
      ['lambda', 131_072, 131_072, 0.12, 0.3, 700, 30, 'j', 'fp8', 'llama3.3-70b-instruct-fp8'],
      ['novita', 131_072, 120_000, 0.13, 0.39, 900, 28, 't', 'bf16', 'meta-llama/llama-3.3-70b-instruct'],
      ['nebius', 131_072, 16_384, 0.13, 0.4, 800, 32, 'tj', 'fp8', 'meta-llama/Llama-3.3-70B-Instruct'],
    ],
  },
  {
    id: 'meta-llama/llama-3.1-8b-instruct',
    name: 'Llama 3.1 8B Instruct',
    endpoints: [
      ['deepinfra', 131_072, 16_384, 0.03, 0.05, 300, 110, 'tj', 'bf16', 'meta-llama/Meta-Llama-3.1-8B-Instruct'],
      ['groq', 131_072, 8_192, 0.05, 0.08, 150, 750, 't', 'unknown', 'llama-3.1-8b-instant'],
      ['cerebras', 32_768, 8_192, 0.1, 0.1, 120, 2200, 't', 'fp16', 'llama3.1-8b'],
      ['together', 131_072, 131_072, 0.18, 0.18, 300, 160, 'tj', 'fp8', 'meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo'],
      ['lambda', 131_072, 131_072, 0.025, 0.04, 500, 90, 'j', 'bf16', 'llama3.1-8b-instruct'],
    ],
  },
  {
    id: 'meta-llama/llama-3.1-405b-instruct',
    name: 'Llama 3.1 405B Instruct',
    endpoints: [
      ['together', 130_815, 4_096, 3.5, 3.5, 700, 35, 'tj', 'fp8', 'meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo'],
      ['fireworks', 131_072, 16_384, 3, 3, 650, 60, 'tj', 'fp8', 'accounts/fireworks/models/llama-v3p1-405b-instruct'],
      ['deepinfra', 32_768, 16_384, 0.8, 0.8, 900, 25, 't', 'fp8', 'meta-llama/Meta-Llama-3.1-405B-Instruct'],
      ['lambda', 131_072, 131_072, 0.8, 0.8, 1000, 22, '', 'fp8', 'llama3.1-405b-instruct-fp8'],
    ],
  },
  {
    id: 'meta-llama/llama-4-maverick',
    name: 'Llama 4 Maverick',
    endpoints: [
      ['deepinfra', 1_048_576, 16_384, 0.15, 0.6, 400, 80, 'tj', 'fp8', 'meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8'],
      ['groq', 131_072, 8_192, 0.2, 0.6, 200, 500, 't', 'unknown', 'meta-llama/llama-4-maverick-17b-128e-instruct'],
      ['together', 1_048_576, 1_048_576, 0.27, 0.85, 450, 110, 'tj', 'fp8', 'meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8'],
      ['fireworks', 1_048_576, 16_384, 0.22, 0.88, 420, 130, 'tj', 'fp8', 'accounts/fireworks/models/llama4-maverick-instruct-basic'],
      ['sambanova', 131_072, 4_096, 0.63, 1.8, 280, 550, 't', 'bf16', 'Llama-4-Maverick-17B-128E-Instruct'],
    ],
  },
  {
    id: 'meta-llama/llama-4-scout',
    name: 'Llama 4 Scout',
    endpoints: [
      ['deepinfra', 327_680, 16_384, 0.08, 0.3, 380, 90, 'tj', 'bf16', 'meta-llama/Llama-4-Scout-17B-16E-Instruct'],
      ['groq', 131_072, 8_192, 0.11, 0.34, 180, 600, 't', 'unknown', 'meta-llama/llama-4-scout-17b-16e-instruct'],
      ['together', 1_048_576, 1_048_576, 0.18, 0.59, 420, 120, 'tj', 'fp8', 'meta-llama/Llama-4-Scout-17B-16E-Instruct'],
      ['cerebras', 32_768, 8_192, 0.65, 0.85, 150, 2600, 't', 'bf16', 'llama-4-scout-17b-16e-instruct'],
    ],
  },

  // Mistral
  { id: 'mistralai/mistral-large-2411', name: 'Mistral Large 2411', endpoints: [['mistral', 131_072, 131_072, 2, 6, 500, 45, 'tj', 'unknown', 'mistral-large-2411']] },
  { id: 'mistralai/mistral-medium-3', name: 'Mistral Medium 3', endpoints: [['mistral', 131_072, 131_072, 0.4, 2, 400, 70, 'tj', 'unknown', 'mistral-medium-2505']] },
  {
    id: 'mistralai/mistral-small-3.2-24b-instruct',
    name: 'Mistral Small 3.2 24B',
    endpoints: [
      ['mistral', 131_072, 131_072, 0.1, 0.3, 300, 120, 'tj', 'unknown', 'mistral-small-2506'],
      ['deepinfra', 128_000, 16_384, 0.05, 0.1, 400, 70, 'tj', 'fp8', 'mistralai/Mistral-Small-3.2-24B-Instruct-2506'],
      ['parasail', 128_000, 16_384, 0.09, 0.6, 450, 90, 't', 'bf16'],
    ],
  },
  { id: 'mistralai/codestral-2508', name: 'Codestral 2508', endpoints: [['mistral', 256_000, 256_000, 0.3, 0.9, 250, 150, 'tj', 'unknown', 'codestral-2508']] },
  {
    id: 'mistralai/mistral-nemo',
    name: 'Mistral Nemo',
    endpoints: [
      ['mistral', 131_072, 131_072, 0.15, 0.15, 250, 130, 'tj', 'unknown', 'open-mistral-nemo'],
      ['deepinfra', 131_072, 16_384, 0.02, 0.04, 350, 80, 'tj', 'bf16', 'mistralai/Mistral-Nemo-Instruct-2407'],
      ['novita', 60_288, 32_000, 0.04, 0.17, 700, 60, '', 'bf16'],
    ],
  },

  // DeepSeek
  {
    id: 'deepseek/deepseek-chat',
    name: 'DeepSeek V3',
    endpoints: [
      ['deepseek', 64_000, 8_192, 0.27, 1.1, 1200, 25, 'tj', 'fp8', 'deepseek-chat'],
      ['deepinfra', 163_840, 163_840, 0.38, 0.89, 700, 30, 'tj', 'fp8', 'deepseek-ai/DeepSeek-V3-0324'],
      ['together', 131_072, 12_288, 1.25, 1.25, 600, 55, 'tj', 'fp8', 'deepseek-ai/DeepSeek-V3'],
      ['fireworks', 131_072, 131_072, 0.9, 0.9, 550, 60, 'tj', 'fp8', 'accounts/fireworks/models/deepseek-v3-0324'],
      ['novita', 163_840, 163_840, 0.28, 1.14, 1100, 28, 't', 'fp8', 'deepseek/deepseek-v3-0324'],
      ['nebius', 163_840, 163_840, 0.5, 1.5, 800, 40, 'tj', 'fp8', 'deepseek-ai/DeepSeek-V3-0324'],
    ],
  },
  {
    id: 'deepseek/deepseek-r1',
    name: 'DeepSeek R1',
    endpoints: [
      ['deepseek', 64_000, 8_192, 0.55, 2.19, 2500, 22, '', 'fp8', 'deepseek-reasoner'],
      ['together', 163_840, 32_768, 3, 7, 1200, 70, 'j', 'fp8', 'deepseek-ai/DeepSeek-R1'],
      ['fireworks', 163_840, 163_840, 3, 8, 1100, 80, 'j', 'fp8', 'accounts/fireworks/models/deepseek-r1'],
      ['deepinfra', 163_840, 163_840, 0.7, 2.4, 1500, 30, 'j', 'fp8', 'deepseek-ai/DeepSeek-R1-0528'],
      ['sambanova', 32_768, 8_192, 5, 7, 600, 200, '', 'fp8', 'DeepSeek-R1'],
      ['novita', 64_000, 16_000, 0.7, 2.5, 2000, 25, '', 'fp8', 'deepseek/deepseek-r1'],
    ],
  },
  {
    id: 'deepseek/deepseek-chat-v3.1',
    name: 'DeepSeek V3.1',
    endpoints: [
      ['deepseek', 128_000, 8_192, 0.56, 1.68, 1300, 25, 'tj', 'fp8', 'deepseek-chat'],
      ['deepinfra', 163_840, 163_840, 0.27, 1, 700, 35, 'tj', 'fp4'],
      ['fireworks', 163_840, 163_840, 0.56, 1.68, 600, 70, 'tj', 'fp8', 'accounts/fireworks/models/deepseek-v3p1'],
      ['together', 131_072, 131_072, 0.6, 1.7, 650, 60, 'tj', 'fp8', 'deepseek-ai/DeepSeek-V3.1'],
    ],
  },

  // Qwen (Alibaba)
  {
    id: 'qwen/qwen3-235b-a22b',
    name: 'Qwen3 235B A22B',
    endpoints: [
      ['deepinfra', 40_960, 16_384, 0.13, 0.6, 600, 40, 'tj', 'fp8', 'Qwen/Qwen3-235B-A22B'],
      ['together', 40_960, 40_960, 0.2, 0.6, 500, 60, 'tj', 'fp8', 'Qwen/Qwen3-235B-A22B-fp8-tput'],
      ['fireworks', 128_000, 40_960, 0.22, 0.88, 480, 80, 'tj', 'fp8', 'accounts/fireworks/models/qwen3-235b-a22b'],
      ['alibaba', 131_072, 8_192, 0.7, 2.8, 900, 45, 'tj', 'unknown', 'qwen3-235b-a22b'],
    ],
  },
  {
    id: 'qwen/qwen3-coder',
    name: 'Qwen3 Coder 480B A35B',
    endpoints: [
      ['alibaba', 262_144, 65_536, 1, 5, 800, 60, 'tj', 'unknown', 'qwen3-coder-plus'],
      ['deepinfra', 262_144, 65_536, 0.4, 1.6, 700, 45, 'tj', 'fp8', 'Qwen/Qwen3-Coder-480B-A35B-Instruct'],
      ['together', 262_144, 65_536, 2, 2, 500, 80, 'tj', 'fp8', 'Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8'],
      ['cerebras', 131_072, 32_768, 2, 2, 250, 2000, 't', 'fp16', 'qwen-3-coder-480b'],
      ['fireworks', 262_144, 65_536, 0.45, 1.8, 550, 90, 'tj', 'fp8', 'accounts/fireworks/models/qwen3-coder-480b-a35b-instruct'],
    ],
  },
  {
    id: 'qwen/qwen3-32b',
    name: 'Qwen3 32B',
    endpoints: [
      ['groq', 131_072, 40_960, 0.29, 0.59, 200, 400, 't', 'unknown', 'qwen/qwen3-32b'],
      ['deepinfra', 40_960, 16_384, 0.1, 0.3, 400, 50, 'tj', 'fp8', 'Qwen/Qwen3-32B'],
      ['cerebras', 131_072, 16_382, 0.4, 0.8, 150, 2400, 't', 'fp16', 'qwen-3-32b'],
      ['nebius', 40_960, 16_384, 0.1, 0.3, 600, 45, 'tj', 'fp8', 'Qwen/Qwen3-32B'],
    ],
  },
  {
    id: 'qwen/qwen-2.5-72b-instruct',
    name: 'Qwen2.5 72B Instruct',
    endpoints: [
      ['deepinfra', 32_768, 16_384, 0.12, 0.39, 450, 35, 'tj', 'fp8', 'Qwen/Qwen2.5-72B-Instruct'],
      ['together', 131_072, 2_048, 1.2, 1.2, 400, 70, 'tj', 'fp8', 'Qwen/Qwen2.5-72B-Instruct-Turbo'],
      ['fireworks', 32_768, 16_384, 0.9, 0.9, 420, 80, 'tj', 'fp16', 'accounts/fireworks/models/qwen2p5-72b-instruct'],
      ['novita', 32_000, 4_096, 0.38, 0.4, 800, 30, 't', 'bf16', 'qwen/qwen-2.5-72b-instruct'],
    ],
  },
  {
    id: 'qwen/qwen-2.5-coder-32b-instruct',
    name: 'Qwen2.5 Coder 32B Instruct',
    endpoints: [
      ['deepinfra', 32_768, 16_384, 0.06, 0.15, 350, 50, 'j', 'fp8', 'Qwen/Qwen2.5-Coder-32B-Instruct'],
      ['together', 16_384, 16_384, 0.8, 0.8, 350, 90, 'j', 'fp16', 'Qwen/Qwen2.5-Coder-32B-Instruct'],
      ['hyperbolic', 128_000, 8_192, 0.2, 0.2, 700, 40, '', 'bf16', 'Qwen/Qwen2.5-Coder-32B-Instruct'],
    ],
  },

  // xAI
  { id: 'x-ai/grok-4', name: 'Grok 4', endpoints: [['xai', 256_000, 256_000, 3, 15, 6000, 45, 'tj', 'unknown', 'grok-4-0709']] },
  { id: 'x-ai/grok-4-fast', name: 'Grok 4 Fast', endpoints: [['xai', 2_000_000, 30_000, 0.2, 0.5, 1500, 120, 'tj', 'unknown', 'grok-4-fast']] },
  { id: 'x-ai/grok-code-fast-1', name: 'Grok Code Fast 1', endpoints: [['xai', 256_000, 10_000, 0.2, 1.5, 1200, 160, 'tj', 'unknown', 'grok-code-fast-1']] },
  { id: 'x-ai/grok-3-mini', name: 'Grok 3 Mini', endpoints: [['xai', 131_072, 131_072, 0.3, 0.5, 900, 110, 'tj', 'unknown', 'grok-3-mini']] },

  // Cohere
  { id: 'cohere/command-a', name: 'Command A', endpoints: [['cohere', 256_000, 8_192, 2.5, 10, 400, 70, 'tj', 'unknown', 'command-a-03-2025']] },
  { id: 'cohere/command-r-08-2024', name: 'Command R (08-2024)', endpoints: [['cohere', 128_000, 4_000, 0.15, 0.6, 300, 90, 'tj', 'unknown', 'command-r-08-2024']] },

  // Microsoft, NVIDIA
  {
    id: 'microsoft/phi-4',
    name: 'Phi 4',
    endpoints: [
      ['deepinfra', 16_384, 16_384, 0.07, 0.14, 300, 60, 'j', 'bf16', 'microsoft/phi-4'],
      ['nebius', 16_384, 8_192, 0.1, 0.3, 500, 55, 'j', 'fp8', 'microsoft/phi-4'],
    ],
  },
  {
    id: 'microsoft/wizardlm-2-8x22b',
    name: 'WizardLM-2 8x22B',
    endpoints: [
      ['deepinfra', 65_536, 16_384, 0.48, 0.48, 500, 45, '', 'bf16', 'microsoft/WizardLM-2-8x22B'],
      ['novita', 65_535, 8_000, 0.62, 0.62, 900, 35, '', 'bf16'],
    ],
  },
  {
    id: 'nvidia/llama-3.1-nemotron-70b-instruct',
    name: 'Llama 3.1 Nemotron 70B Instruct',
    endpoints: [
      ['deepinfra', 131_072, 16_384, 0.12, 0.3, 500, 35, 't', 'fp8', 'nvidia/Llama-3.1-Nemotron-70B-Instruct'],
      ['lambda', 131_072, 131_072, 0.12, 0.3, 700, 30, '', 'fp8', 'llama3.1-nemotron-70b-instruct-fp8'],
    ],
  },
  {
    id: 'nvidia/llama-3.3-nemotron-super-49b-v1',
    name: 'Llama 3.3 Nemotron Super 49B v1',
    endpoints: [
      ['nebius', 131_072, 16_384, 0.13, 0.4, 600, 50, 't', 'fp8', 'nvidia/Llama-3_3-Nemotron-Super-49B-v1'],
      ['deepinfra', 131_072, 16_384, 0.1, 0.4, 500, 45, 't', 'fp8', 'nvidia/Llama-3.3-Nemotron-Super-49B-v1'],
    ],
  },

  // Moonshot, Z.AI, MiniMax, Perplexity, Amazon
  {
    id: 'moonshotai/kimi-k2',
    name: 'Kimi K2',
    endpoints: [
      ['moonshotai', 131_072, 131_072, 0.6, 2.5, 1200, 35, 'tj', 'fp8', 'kimi-k2-0711-preview'],
      ['groq', 131_072, 16_384, 1, 3, 300, 350, 't', 'unknown', 'moonshotai/kimi-k2-instruct'],
      ['together', 131_072, 131_072, 1, 3, 600, 60, 'tj', 'fp8', 'moonshotai/Kimi-K2-Instruct'],
      ['deepinfra', 131_072, 131_072, 0.5, 2, 800, 40, 'tj', 'fp4', 'moonshotai/Kimi-K2-Instruct'],
      ['fireworks', 131_072, 131_072, 0.6, 2.5, 600, 80, 'tj', 'fp8', 'accounts/fireworks/models/kimi-k2-instruct'],
      ['novita', 131_072, 131_072, 0.57, 2.3, 1000, 30, 't', 'fp8', 'moonshotai/kimi-k2-instruct'],
    ],
  },
  {
    id: 'z-ai/glm-4.6',
    name: 'GLM 4.6',
    endpoints: [
      ['z-ai', 204_800, 131_072, 0.6, 2.2, 900, 50, 'tj', 'unknown', 'glm-4.6'],
      ['deepinfra', 202_752, 131_072, 0.5, 1.9, 800, 45, 'tj', 'fp8', 'zai-org/GLM-4.6'],
      ['novita', 204_800, 131_072, 0.6, 2.2, 1000, 40, 't', 'fp8', 'zai-org/glm-4.6'],
    ],
  },
  {
    id: 'z-ai/glm-4.5-air',
    name: 'GLM 4.5 Air',
    endpoints: [
      ['z-ai', 131_072, 98_304, 0.2, 1.1, 700, 80, 'tj', 'unknown', 'glm-4.5-air'],
      ['deepinfra', 131_072, 98_304, 0.2, 1.1, 600, 70, 'tj', 'fp8', 'zai-org/GLM-4.5-Air'],
      ['together', 131_072, 98_304, 0.2, 1.1, 550, 90, 'tj', 'fp8', 'zai-org/GLM-4.5-Air-FP8'],
    ],
  },
  {
    id: 'minimax/minimax-m2',
    name: 'MiniMax M2',
    endpoints: [
      ['minimax', 204_800, 131_072, 0.3, 1.2, 900, 70, 'tj', 'unknown', 'MiniMax-M2'],
      ['deepinfra', 204_800, 131_072, 0.255, 1.02, 800, 60, 'tj', 'fp8', 'MiniMaxAI/MiniMax-M2'],
    ],
  },
  { id: 'perplexity/sonar', name: 'Sonar', endpoints: [['perplexity', 127_072, 8_000, 1, 1, 1200, 90, '', 'unknown', 'sonar']] },
  { id: 'perplexity/sonar-pro', name: 'Sonar Pro', endpoints: [['perplexity', 200_000, 8_000, 3, 15, 1800, 70, '', 'unknown', 'sonar-pro']] },
  { id: 'amazon/nova-pro-v1', name: 'Nova Pro 1.0', endpoints: [['amazon-bedrock', 300_000, 5_120, 0.8, 3.2, 500, 90, 't', 'unknown', 'amazon.nova-pro-v1:0']] },
  { id: 'amazon/nova-lite-v1', name: 'Nova Lite 1.0', endpoints: [['amazon-bedrock', 300_000, 5_120, 0.06, 0.24, 350, 150, 't', 'unknown', 'amazon.nova-lite-v1:0']] },
];
