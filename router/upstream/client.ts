// Upstream HTTP through one undici Agent: a keep-alive pool per provider origin, with separate limits for
// connecting, for the first byte of the answer and for an idle stream.
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import type { ErrorClass } from '../../telemetry/event.ts';
import type { UpstreamApi } from '../../catalog/types.ts';

export interface Timeouts {
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface UpstreamTarget {
  baseUrl: string;
  apiKey: string | undefined;
}

export type UpstreamResponse = Dispatcher.ResponseData;

export class UpstreamClient {
  private readonly agent: Agent;

  constructor(private readonly timeouts: Timeouts) {
    this.agent = new Agent({
      connect: { timeout: timeouts.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connections: 512,
      pipelining: 1,
    });
  }

  /** POST a body the caller serialized (so a body that cannot be serialized is never taken for a network failure). */
  post(target: UpstreamTarget, path: string, body: string, api: UpstreamApi, signal: AbortSignal): Promise<UpstreamResponse> {
    const url = this.urlOf(target.baseUrl, path);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (target.apiKey !== undefined) {
      if (api === 'anthropic') {
        headers['x-api-key'] = target.apiKey;
        headers['anthropic-version'] = '2023-06-01';
      } else headers.authorization = `Bearer ${target.apiKey}`;
    }
    return this.agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'POST',
      headers,
      body,
      headersTimeout: this.timeouts.firstByteTimeoutMs,
      bodyTimeout: this.timeouts.idleTimeoutMs,
      signal,
    });
  }

  /** Parsed once per base URL and path: a URL parse was a visible part of every request's cost. */
  private readonly urls = new Map<string, { origin: string; pathname: string; search: string }>();

  private urlOf(baseUrl: string, path: string): { origin: string; pathname: string; search: string } {
    const k = baseUrl + path;
    let u = this.urls.get(k);
    if (u === undefined) {
      const parsed = new URL(k);
      u = { origin: parsed.origin, pathname: parsed.pathname, search: parsed.search };
      this.urls.set(k, u);
    }
    return u;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** What kind of failure a thrown network error is, in the vocabulary of the telemetry contract. */
export function classifyNetworkError(err: unknown): ErrorClass {
  if (err instanceof undiciErrors.ConnectTimeoutError) return 'timeout_connect';
  if (err instanceof undiciErrors.HeadersTimeoutError) return 'timeout_first_byte';
  if (err instanceof undiciErrors.BodyTimeoutError) return 'timeout_idle';
  const name = (err as { name?: string })?.name;
  if (name === 'AbortError' || err instanceof undiciErrors.RequestAbortedError) return 'client_abort';
  if (name === 'MalformedUpstreamError' || err instanceof SyntaxError) return 'malformed_response';
  return 'connection_error';
}

/** Retry-After in milliseconds, from seconds or an HTTP date. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v === '') return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
