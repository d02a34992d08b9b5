export type UpstreamApi = 'openai' | 'anthropic';

/** What a provider says it does with prompts: `provider.data_collection: "deny"` and `zdr` filter on it. */
export interface DataPolicy {
  /** It may train on prompts and completions. */
  training: boolean;
  /** It keeps prompts for a while (abuse monitoring, logs): not zero data retention. */
  retainsPrompts: boolean;
}

export interface Provider {
  slug: string;
  name: string;
  /** Wire format its endpoints speak. */
  api: UpstreamApi;
  dataPolicy: DataPolicy;
}

export interface Endpoint {
  /** `provider:author/slug`: stable id used in telemetry, metrics and explanations. */
  id: string;
  provider: string;
  model: string;
  /** The model name the provider expects on its own API. */
  providerModelId: string;
  api: UpstreamApi;
  contextLength: number;
  maxCompletionTokens: number;
  /** USD per million tokens. */
  pricePrompt: number;
  priceCompletion: number;
  quantization: string;
  supportsTools: boolean;
  supportsResponseFormat: boolean;
  /** Its provider's, as declared in the catalog. */
  dataPolicy: DataPolicy;
  /** Typical speed, as the simulator reproduces it: median time to first token and decode rate. */
  ttftMs: number;
  tokensPerSecond: number;
}

export interface Model {
  id: string;
  name: string;
  author: string;
  contextLength: number;
  endpoints: Endpoint[];
}
