// What the routing unit tests share: a catalog model with many endpoints, a breaker configuration, and
// the needs of a plain request, adjusted per test.
import { loadCatalog, type Model } from '../../catalog/catalog.ts';
import type { RouteNeeds } from '../../router/routing/plan.ts';

export const catalog = loadCatalog();
export const llama = catalog.model('meta-llama/llama-3.3-70b-instruct') as Model;
export const breaker = { consecutiveFailures: 3, failureRatio: 0.5, minRequests: 10, windowMs: 30_000, cooldownMs: 5_000 };
export const needs = (over: Partial<RouteNeeds> = {}): RouteNeeds => ({
  model: llama,
  sort: undefined,
  prefs: undefined,
  promptTokens: 100,
  maxTokens: undefined,
  needsTools: false,
  needsResponseFormat: false,
  ...over,
});
