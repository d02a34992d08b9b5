// Fetching the service's JSON API; errors carry the API's own message (OpenAI error shape).
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string, key?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  } catch {
    throw new ApiFailure(0, 'the service cannot be reached');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiFailure(res.status, `unexpected answer (${res.status})`);
  }
  if (!res.ok) {
    const m = (body as { error?: { message?: string } }).error?.message;
    throw new ApiFailure(res.status, m ?? `request failed (${res.status})`);
  }
  return body as T;
}

export const qs = (params: Record<string, string | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
};
