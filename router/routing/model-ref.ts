import type { SORTS } from '../chat-schema.ts';

export type Sort = (typeof SORTS)[number];

/**
 * `author/slug:floor` asks for the cheapest endpoint, `:nitro` for the fastest, `:free` for its endpoints
 * that charge nothing; other text is the id.
 */
export function parseModelRef(ref: string): { id: string; sort: Sort | undefined; free: boolean } {
  if (ref.endsWith(':floor')) return { id: ref.slice(0, -6), sort: 'price', free: false };
  if (ref.endsWith(':nitro')) return { id: ref.slice(0, -6), sort: 'throughput', free: false };
  if (ref.endsWith(':free')) return { id: ref.slice(0, -5), sort: undefined, free: true };
  return { id: ref, sort: undefined, free: false };
}
