// The errors a chat request can end with before or after its attempts, each with the status OpenRouter
// gives it and attributed to a provider only when a provider's answer caused it.
import type { Endpoint } from '../catalog/catalog.ts';
import { ApiError } from '../core/errors.ts';
import type { ErrorClass } from '../telemetry/event.ts';
import type { AttemptFailure } from './attempt.ts';
import type { HealthRegistry } from './health/registry.ts';
import type { RoutePlan } from './routing/plan.ts';

/** Why nothing could be tried: rate limits (429), broken endpoints (503), the caller's policies (403) or the request's own needs (4xx). */
export function noRouteError(plans: RoutePlan[], health: HealthRegistry, now: number): ApiError {
  const all = plans.flatMap((p) => p.excluded);
  const limited = all.filter((x) => x.reason.startsWith('rate limited'));
  const open = all.filter((x) => x.reason === 'circuit open');
  if (limited.length > 0 && open.length === 0) {
    const wait = Math.min(...limited.map((x) => health.get(x.endpoint).stats.coolUntil - now));
    return new ApiError(
      429,
      'rate_limit_error',
      'upstream_rate_limited',
      `every endpoint that could serve this request asked to retry later (${limited.map((x) => x.endpoint).join(', ')})`,
      { provider: limited[0].provider, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)), metadata: { excluded: all } },
    );
  }
  if (open.length + limited.length > 0) {
    return new ApiError(
      503,
      'service_unavailable',
      'no_available_endpoints',
      `every endpoint that could serve this request is cooling down after failures (${[...open, ...limited].map((x) => x.endpoint).join(', ')})`,
      { retryAfterSeconds: 1, metadata: { excluded: all } },
    );
  }
  const policies = [...new Set(all.flatMap((x) => (x.policy === undefined ? [] : [x.policy])))];
  if (policies.length > 0) {
    const rules = [...new Set(all.filter((x) => x.policy !== undefined).map((x) => x.reason))];
    return new ApiError(
      403,
      'permission_error',
      'policy_denied',
      `no endpoint allowed by the policies of ${policies.join(' and ')} can serve this request (${rules.slice(0, 5).join('; ')}${rules.length > 5 ? `; and ${rules.length - 5} more` : ''})`,
      { metadata: { policies, excluded: all } },
    );
  }
  if (all.length > 0 && all.every((x) => x.reason.startsWith('context_length'))) {
    return new ApiError(
      400,
      'invalid_request_error',
      'context_length_exceeded',
      'the prompt plus max_tokens exceeds the context length of every endpoint of the requested models',
      { metadata: { excluded: all } },
    );
  }
  const reasons = [...new Set(all.map((x) => x.reason))].join('; ');
  return new ApiError(404, 'not_found_error', 'no_endpoints', `no endpoint satisfies this request's requirements (${reasons})`, { metadata: { excluded: all } });
}

/**
 * The answer after every attempt failed, or after the router itself stopped them (`stoppedBy`: the
 * request's deadline or the router's shutdown, never a provider's fault).
 */
export function finalError(failures: { f: AttemptFailure; e: Endpoint }[], stoppedBy?: ErrorClass): ApiError {
  const attempts = failures.map(({ f, e }) => ({ provider: e.provider, endpoint: e.id, status: f.status, error_class: f.errorClass, message: f.message }));
  if (stoppedBy === 'deadline')
    return new ApiError(408, 'invalid_request_error', 'request_timeout', 'the request deadline passed before a provider finished answering', { metadata: { attempts } });
  if (stoppedBy === 'shutdown')
    return new ApiError(503, 'service_unavailable', 'shutting_down', 'the router is shutting down; retry on another instance', { retryAfterSeconds: 1, metadata: { attempts } });
  const last = failures[failures.length - 1];
  if (!last) return new ApiError(503, 'service_unavailable', 'no_available_endpoints', 'no endpoint could be tried (every candidate is cooling down)', { retryAfterSeconds: 1 });
  if (failures.every(({ f }) => f.errorClass === 'rate_limited')) {
    const wait = Math.min(...failures.map(({ f }) => f.retryAfterMs ?? 1000));
    return new ApiError(429, 'rate_limit_error', 'upstream_rate_limited', `every provider tried is rate limiting (last: ${last.e.provider})`, {
      provider: last.e.provider,
      raw: last.f.message,
      retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
      metadata: { attempts },
    });
  }
  return new ApiError(
    502,
    'upstream_error',
    'upstream_failed',
    `${failures.length} attempt(s) failed; last: ${last.e.provider} (${last.f.errorClass}${last.f.status ? ` ${last.f.status}` : ''}): ${last.f.message}`,
    { provider: last.e.provider, raw: last.f.message, metadata: { attempts } },
  );
}
