// Per-key request rate limit as a token bucket: `limit` requests per minute, refilled continuously, so a
// burst up to the limit is allowed and the steady rate is what the key was granted.

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** When refused: seconds until one request is allowed. */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  take(keyId: string, limitPerMinute: number, now = Date.now()): RateDecision {
    const perMs = limitPerMinute / 60_000;
    let b = this.buckets.get(keyId);
    if (!b) {
      b = { tokens: limitPerMinute, at: now };
      this.buckets.set(keyId, b);
    }
    b.tokens = Math.min(limitPerMinute, b.tokens + (now - b.at) * perMs);
    b.at = now;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    return {
      allowed,
      limit: limitPerMinute,
      remaining: Math.max(0, Math.floor(b.tokens)),
      resetSeconds: Math.ceil((limitPerMinute - b.tokens) / perMs / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)),
    };
  }
}
