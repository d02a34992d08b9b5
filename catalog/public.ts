// The catalog as OpenRouter publishes it (GET /api/v1/models and a model's endpoints): prices as decimal
// strings in USD per token, architecture, supported parameters. Live figures are added by the routes.
import { PRICES_COMPILED_ON } from './data.ts';
import type { Endpoint, Model } from './types.ts';

/** When the catalog's entries were compiled (unix seconds): the `created` of every model, lacking release dates. */
export const CATALOG_CREATED = Math.floor(Date.parse(`${PRICES_COMPILED_ON}T00:00:00Z`) / 1000);

/** USD per million tokens as OpenRouter writes a price: USD per token, in plain decimals ("0.00000015"). */
export function perToken(usdPerMillion: number): string {
  if (usdPerMillion === 0) return '0';
  return (usdPerMillion / 1e6).toFixed(15).replace(/0+$/, '').replace(/\.$/, '');
}

export interface PublicPricing {
  prompt: string;
  completion: string;
  request: string;
  image: string;
}

export const pricingOf = (e: Pick<Endpoint, 'pricePrompt' | 'priceCompletion'>): PublicPricing => ({
  prompt: perToken(e.pricePrompt),
  completion: perToken(e.priceCompletion),
  request: '0',
  image: '0',
});

const TOKENIZERS: Record<string, string> = {
  openai: 'GPT',
  anthropic: 'Claude',
  google: 'Gemini',
  'meta-llama': 'Llama3',
  mistralai: 'Mistral',
  qwen: 'Qwen',
  deepseek: 'DeepSeek',
  'x-ai': 'Grok',
};

export const architectureOf = (m: Pick<Model, 'author'>) => ({
  modality: 'text->text',
  input_modalities: ['text'],
  output_modalities: ['text'],
  tokenizer: TOKENIZERS[m.author] ?? 'Other',
  instruct_type: null,
});

/** The request parameters an endpoint honours (what the router forwards to it and it answers to). */
export function supportedParameters(e: Pick<Endpoint, 'supportsTools' | 'supportsResponseFormat' | 'api'>): string[] {
  const params = ['max_tokens', 'temperature', 'top_p', 'stop'];
  if (e.api === 'openai') params.push('seed', 'frequency_penalty', 'presence_penalty');
  // The Messages API's extended thinking, which the router asks for on `reasoning` (router/upstream/anthropic.ts).
  if (e.api === 'anthropic') params.push('reasoning', 'include_reasoning');
  if (e.supportsTools) params.push('tools', 'tool_choice');
  if (e.supportsResponseFormat) params.push('response_format', 'structured_outputs');
  return params;
}

/** The parameters a model's endpoints support, any of them. */
export const modelParameters = (m: Pick<Model, 'endpoints'>): string[] => [...new Set(m.endpoints.flatMap(supportedParameters))];

export const descriptionOf = (m: Pick<Model, 'name' | 'author' | 'endpoints'>) =>
  `${m.name} by ${m.author}, served by ${m.endpoints.length} provider endpoint${m.endpoints.length === 1 ? '' : 's'} through Switchboard.`;

/** The cheapest endpoint's prices (OpenRouter quotes one price per model), and the widest limits. */
export function publicModel(m: Model) {
  const cheapest = m.endpoints.reduce((a, b) => (b.pricePrompt + b.priceCompletion < a.pricePrompt + a.priceCompletion ? b : a));
  const top = m.endpoints.reduce((a, b) => (b.contextLength > a.contextLength ? b : a));
  return {
    id: m.id,
    canonical_slug: m.id,
    hugging_face_id: null,
    name: m.name,
    created: CATALOG_CREATED,
    description: descriptionOf(m),
    context_length: m.contextLength,
    architecture: architectureOf(m),
    pricing: pricingOf(cheapest),
    top_provider: { context_length: top.contextLength, max_completion_tokens: top.maxCompletionTokens, is_moderated: false },
    per_request_limits: null,
    supported_parameters: modelParameters(m),
  };
}
