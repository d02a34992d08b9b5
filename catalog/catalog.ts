import { MODELS, PROVIDERS, type EndpointRow } from './data.ts';
import type { DataPolicy, Endpoint, Model, Provider } from './types.ts';
import type { ProviderConfig } from '../core/config.ts';
import type { ModelEntryConfig } from '../core/config-file.ts';

export type { Endpoint, Model, Provider } from './types.ts';

/** A provider added by configuration declares no policy: assume the least (it may train and keeps prompts). */
export const UNDECLARED_POLICY: DataPolicy = Object.freeze({ training: true, retainsPrompts: true });

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

  /** A provider's display name (its slug when the catalog does not know it). */
  providerName(slug: string): string {
    return this.providers.get(slug)?.name ?? slug;
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

  /**
   * The catalog with models or endpoints from configuration: an endpoint of an existing model replaces the
   * one of the same provider; unknown providers are added with the wire format configured for them.
   */
  extend(models: readonly ModelEntryConfig[], providers: readonly ProviderConfig[]): Catalog {
    if (models.length === 0 && providers.every((p) => this.providers.has(p.name))) return this;
    const provs = new Map(this.providers);
    for (const p of providers) if (!provs.has(p.name)) provs.set(p.name, { slug: p.name, name: p.name, api: p.api, dataPolicy: UNDECLARED_POLICY });
    const byId = new Map(this.models.map((m) => [m.id, { ...m, endpoints: [...m.endpoints] }]));
    for (const entry of models) {
      const model = byId.get(entry.id) ?? { id: entry.id, name: entry.name ?? entry.id, author: entry.id.split('/')[0], contextLength: 0, endpoints: [] };
      for (const ep of entry.endpoints) {
        const p = provs.get(ep.provider);
        if (!p) throw new Error(`config: model ${entry.id} names provider ${ep.provider}, which is neither in the catalog nor configured`);
        model.endpoints = model.endpoints.filter((e) => e.provider !== ep.provider);
        model.endpoints.push({
          id: `${ep.provider}:${entry.id}`,
          provider: ep.provider,
          model: entry.id,
          providerModelId: ep.providerModelId ?? entry.id,
          api: p.api,
          contextLength: ep.contextLength,
          maxCompletionTokens: ep.maxCompletionTokens,
          pricePrompt: ep.pricePrompt,
          priceCompletion: ep.priceCompletion,
          quantization: ep.quantization ?? 'unknown',
          supportsTools: ep.supportsTools ?? false,
          supportsResponseFormat: ep.supportsResponseFormat ?? false,
          dataPolicy: p.dataPolicy,
          ttftMs: ep.ttftMs ?? 500,
          tokensPerSecond: ep.tokensPerSecond ?? 50,
        });
      }
      model.contextLength = Math.max(...model.endpoints.map((e) => e.contextLength));
      byId.set(entry.id, model);
    }
    return new Catalog([...byId.values()], [...provs.values()]);
  }

  /** The catalog restricted to some providers (those configured, when real upstreams are in use). */
  restrictTo(providerSlugs: ReadonlySet<string>): Catalog {
    const models = this.models.map((m) => ({ ...m, endpoints: m.endpoints.filter((e) => providerSlugs.has(e.provider)) })).filter((m) => m.endpoints.length > 0);
    return new Catalog(
      models,
      [...this.providers.values()].filter((p) => providerSlugs.has(p.slug)),
    );
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
    dataPolicy: p.dataPolicy,
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
