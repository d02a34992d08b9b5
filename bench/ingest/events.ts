// Realistic telemetry for benchmarks: request and attempt events over real catalog endpoints, many accounts.
import { randomUUID } from 'node:crypto';
import { loadCatalog } from '../../catalog/catalog.ts';
import { EVENT_VERSION, type TelemetryEvent } from '../../telemetry/event.ts';

const endpoints = [...loadCatalog().endpoints];
const categories = ['programming', 'roleplay', 'translation', 'general', 'marketing', 'science'];

export function eventPair(i: number, now: number): [TelemetryEvent, TelemetryEvent] {
  const e = endpoints[(i * 7919) % endpoints.length];
  const account = `acct_${i % 5000}`;
  const generation = `gen-bench-${i}`;
  const prompt = 50 + (i % 2000);
  const completion = 20 + (i % 700);
  const cost = Math.round(((prompt * e.pricePrompt + completion * e.priceCompletion) / 1e6) * 1e9) / 1e9;
  const common = {
    v: EVENT_VERSION as typeof EVENT_VERSION,
    generation_id: generation,
    ts: now,
    account_id: account,
    key_id: `key_${i % 7000}`,
    provider: e.provider,
    endpoint_id: e.id,
    status: 200,
    error_class: 'none' as const,
    latency_ms: 800 + (i % 900),
    ttft_ms: 200 + (i % 300),
    tokens_prompt: prompt,
    tokens_completion: completion,
    cost_usd: cost,
    streamed: i % 3 === 0,
  };
  return [
    { kind: 'attempt', ...common, event_id: randomUUID(), attempt: 0, model: e.model },
    {
      kind: 'request',
      ...common,
      event_id: randomUUID(),
      app: `app-${i % 40}`,
      category: categories[i % categories.length],
      requested_model: e.model,
      served_model: e.model,
      fee_usd: Math.round(cost * 0.055 * 1e9) / 1e9,
      fallback_depth: 0,
      attempts: 1,
    },
  ];
}
