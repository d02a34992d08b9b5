// The base paths the public API answers under: OpenRouter's (`/api/v1`) and OpenAI's (`/v1`, for plain
// OpenAI clients). A route of OpenRouter's API is registered once per base from one definition.
export const API_BASES = ['/api/v1', '/v1'] as const;

/** The route's path under every base. */
export const underEveryBase = (path: string): string[] => API_BASES.map((base) => `${base}${path}`);
