import { errorBodySchema } from '../core/errors.ts';

export { Nullable } from '../core/nullable.ts';

const DESCRIPTIONS: Record<number, string> = {
  400: 'invalid request',
  401: 'missing or invalid API key',
  402: 'spend limit or budget reached',
  403: 'refused: a policy, or a key of the wrong kind',
  404: 'not found',
  413: 'body too large',
  415: 'unsupported media type',
  429: 'rate limited',
  502: 'upstream provider failed',
  503: 'no endpoint available',
};

/** Response schemas for the listed error statuses, all the OpenAI error shape. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, { ...errorBodySchema, $id: undefined, description: DESCRIPTIONS[s] ?? 'error' }]));
}
