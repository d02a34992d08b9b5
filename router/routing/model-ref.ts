import type { SORTS } from '../chat-schema.ts';

export type Sort = (typeof SORTS)[number];

/** `author/slug:floor` asks for the cheapest endpoint, `:nitro` for the fastest; other text is the id. */
export function parseModelRef(ref: string): { id: string; sort: Sort | undefined } {
  if (ref.endsWith(':floor')) return { id: ref.slice(0, -6), sort: 'price' };
  if (ref.endsWith(':nitro')) return { id: ref.slice(0, -6), sort: 'throughput' };
  return { id: ref, sort: undefined };
}
