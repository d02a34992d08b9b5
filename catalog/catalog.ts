import { MODELS, PROVIDERS, type EndpointRow } from './data.ts';
import type { Endpoint, Model, Provider } from './types.ts';

export type { Endpoint, Model, Provider } from './types.ts';

export class Catalog {
  readonly models: readonly Model[];
  readonly providers: ReadonlyMap<string, Provider>;
  private readonly byId = new Map<string, Model>();
  private readonly endpointsById = new Map<string, Endpoint>();

  constructor(models: Model[], providers: Provider[]) {
    this.models = models;
    this.providers = new Map(providers.map((p) => [p.slug, p]));
    for (const m of models) {
      this.byId.set(m.id, m);
      for (const e of m.endpoints) this.endpointsById.set(e.id, e);
    }
  }

  model(id: string): Model | undefined {
    return this.byId.get(id);
  }

  endpoint(id: string): Endpoint | undefined {
    return this.endpointsById.get(id);
  }

  get endpoints(): IterableIterator<Endpoint> {
    return this.endpointsById.values();
  }

  /** The catalog restricted to some providers (those configured, when real upstreams are in use). */
  restrictTo(providerSlugs: ReadonlySet<string>): Catalog {
    const models = this.models
      .map((m) => ({ ...m, endpoints: m.endpoints.filter((e) => providerSlugs.has(e.provider)) }))
      .filter((m) => m.endpoints.length > 0);
    return new Catalog(models, [...this.providers.values()].filter((p) => providerSlugs.has(p.slug)));
  }
}

function endpointFromRow(modelId: string, row: EndpointRow, providers: Map<string, Provider>): Endpoint {
  const [provider, contextLength, maxCompletionTokens, pricePrompt, priceCompletion, ttftMs, tokensPerSecond, flags, quantization, providerModelId] = row;
  const p = providers.get(provider);
  if (!p) throw new Error(`catalog: model ${modelId} names unknown provider ${provider}`);
  // Claude speaks the Messages API wherever it is hosted; everything else here is OpenAI-compatible.
  const api = modelId.startsWith('anthropic/') ? 'anthropic' : p.api;
  return {
    id: `${provider}:${modelId}`,
    provider,
    model: modelId,
    providerModelId: providerModelId ?? modelId,
    api,
    contextLength,
    maxCompletionTokens,
    pricePrompt,
    priceCompletion,
    quantization: quantization ?? 'unknown',
    supportsTools: flags.includes('t'),
    supportsResponseFormat: flags.includes('j'),
    ttftMs,
    tokensPerSecond,
  };
}

export function loadCatalog(): Catalog {
  const providers = new Map(PROVIDERS.map((p) => [p.slug, p]));
  const models: Model[] = MODELS.map((row) => {
    const endpoints = row.endpoints.map((e) => endpointFromRow(row.id, e, providers));
    return {
      id: row.id,
      name: row.name,
      author: row.id.split('/')[0],
      contextLength: Math.max(...endpoints.map((e) => e.contextLength)),
      endpoints,
    };
  });
  return new Catalog(models, PROVIDERS);
}
