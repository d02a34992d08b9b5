// OpenRouter's request options, read once per request into what routing needs: the models to try (with
// `models` alone, `:floor`, `:nitro` and `:free`), provider names as catalog slugs whatever their spelling,
// the sort and its partition, and the parameters an endpoint must support when `require_parameters` is set.
import type { Catalog, Endpoint, Model } from '../../catalog/catalog.ts';
import { badRequest, notFound } from '../../core/errors.ts';
import type { ChatRequest, ProviderPrefs } from '../chat-schema.ts';
import { parseModelRef, type Sort } from './model-ref.ts';
import { AUTO_MODEL, parseAuto } from './auto.ts';

export interface ModelChoice {
  model: Model;
  sort: Sort | undefined;
  /** `:free`: only its endpoints that charge nothing. */
  free: boolean;
}

/** The provider preferences with names resolved to slugs, and the soft thresholds in this router's units. */
export interface RoutingPrefs extends Omit<ProviderPrefs, 'sort' | 'preferred_min_throughput' | 'preferred_max_latency' | 'max_price'> {
  /** USD per million tokens; as numbers whatever the client sent. */
  max_price?: { prompt?: number; completion?: number };
  /** Endpoints this router measures below it (tokens/s) go after the others. */
  minThroughput?: number;
  /** Endpoints whose median time to first token here is above it (ms) go after the others. */
  maxLatencyMs?: number;
  /** With require_parameters: the parameters the request sets, which an endpoint must support. */
  requiredParameters?: string[];
}

export interface RequestRouting {
  /** The models named (for `switchboard/auto`, those after it in `models`: tried after auto's choices). */
  models: ModelChoice[];
  /** `switchboard/auto[:category]` was asked for: the category it names, if any. */
  auto: { category: string | undefined } | undefined;
  /** `provider.sort` (by), which the models auto chooses are routed by too. */
  sort: Sort | undefined;
  prefs: RoutingPrefs | undefined;
  /** `provider.sort.partition: "none"`: the endpoints of every model are sorted together. */
  acrossModels: boolean;
}

/** Request fields an endpoint declares support for (catalog/public.ts supportedParameters). */
const DECLARED = [
  'tools',
  'tool_choice',
  'response_format',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'stop',
  'temperature',
  'top_p',
  'max_tokens',
  'reasoning',
  'include_reasoning',
] as const;

export const isFree = (e: Endpoint) => e.pricePrompt === 0 && e.priceCompletion === 0;

/** The model the request names: `model`, else the first of `models`. */
export function requestedModel(req: ChatRequest): string {
  const model = req.model ?? req.models?.[0];
  if (model === undefined) throw badRequest('set `model`, or `models` with at least one model', 'missing_model', 'model');
  return model;
}

function choiceOf(catalog: Catalog, ref: string, sort: Sort | undefined): ModelChoice {
  const parsed = parseModelRef(ref);
  const model = catalog.model(parsed.id);
  if (!model) throw notFound(`model ${JSON.stringify(ref)} is not in the catalog (GET /api/v1/models lists them)`, 'model_not_found');
  if (parsed.free && !model.endpoints.some(isFree)) throw notFound(`model ${parsed.id} has no free endpoint, so ${JSON.stringify(ref)} cannot be served`, 'model_not_found');
  return { model, sort: parsed.sort ?? sort, free: parsed.free };
}

/** A provider named by slug or display name, any case, as its slug (unknown names stay as given and match nothing). */
function slugsOf(catalog: Catalog, names: string[] | undefined): string[] | undefined {
  if (names === undefined) return undefined;
  const bySpelling = new Map<string, string>();
  for (const p of catalog.providers.values()) {
    bySpelling.set(p.slug.toLowerCase(), p.slug);
    bySpelling.set(p.name.toLowerCase(), p.slug);
  }
  return names.map((n) => bySpelling.get(n.trim().toLowerCase()) ?? n);
}

const usd = (v: number | string | undefined) => (v === undefined ? undefined : Number(v));

function threshold(option: string, v: ProviderPrefs['preferred_min_throughput']): number | undefined {
  if (v === undefined || typeof v === 'number') return v;
  const tails = (['p75', 'p90', 'p99'] as const).filter((p) => v[p] !== undefined);
  if (tails.length > 0) {
    throw badRequest(`provider.${option}.${tails[0]} is not offered: each router measures the median only; give a number or p50`, 'unsupported_option', `provider.${option}`);
  }
  return v.p50;
}

function requiredParameters(req: ChatRequest): string[] {
  const set = req as Record<string, unknown>;
  const params: string[] = DECLARED.filter((p) => set[p] !== undefined && set[p] !== null);
  if (req.max_completion_tokens !== undefined && !params.includes('max_tokens')) params.push('max_tokens');
  return params;
}

export function routingOf(catalog: Catalog, req: ChatRequest): RequestRouting {
  const unsupported = (req.transforms ?? []).filter((t) => t !== 'middle-out');
  if (unsupported.length > 0) throw badRequest(`transforms ${JSON.stringify(unsupported[0])} is not offered (only "middle-out" is)`, 'unsupported_option', 'transforms');
  const p = req.provider;
  const sortOption = p?.sort;
  const sort = typeof sortOption === 'object' ? sortOption.by : sortOption;
  const refs = [...new Set([requestedModel(req), ...(req.models ?? [])])];
  const auto = parseAuto(refs[0]);
  if (refs.slice(1).some((r) => parseAuto(r) !== undefined)) throw badRequest(`${AUTO_MODEL} can only be the model asked for first`, 'invalid_request', 'models');
  if (req.switchboard?.auto !== undefined && !auto) throw badRequest(`switchboard.auto applies to model ${AUTO_MODEL} only`, 'invalid_request', 'switchboard.auto');
  const models = (auto ? refs.slice(1) : refs).map((ref) => choiceOf(catalog, ref, sort));
  if (p === undefined) return { models, auto, sort, prefs: undefined, acrossModels: false };
  const { sort: _sort, preferred_min_throughput, preferred_max_latency, max_price, ...rest } = p;
  const maxLatencyS = threshold('preferred_max_latency', preferred_max_latency);
  const prefs: RoutingPrefs = {
    ...rest,
    // No endpoint here charges per request, image or audio input: those limits exclude none.
    max_price: max_price && { prompt: usd(max_price.prompt), completion: usd(max_price.completion) },
    order: slugsOf(catalog, p.order),
    only: slugsOf(catalog, p.only),
    ignore: slugsOf(catalog, p.ignore),
    minThroughput: threshold('preferred_min_throughput', preferred_min_throughput),
    maxLatencyMs: maxLatencyS === undefined ? undefined : maxLatencyS * 1000,
    requiredParameters: p.require_parameters === true ? requiredParameters(req) : undefined,
  };
  return { models, auto, sort, prefs, acrossModels: typeof sortOption === 'object' && sortOption.partition === 'none' };
}
