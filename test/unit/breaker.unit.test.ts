import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../router/health/breaker.ts';

const opts = { consecutiveFailures: 3, failureRatio: 0.5, minRequests: 10, windowMs: 10_000, cooldownMs: 1_000 };

describe('circuit breaker', () => {
  it('opens after consecutive failures and refuses traffic during the cooldown', () => {
    const b = new CircuitBreaker(opts);
    b.onFailure(0);
    b.onFailure(1);
    expect(b.state(2)).toBe('closed');
    b.onFailure(2);
    expect(b.state(3)).toBe('open');
    expect(b.tryAcquire(500)).toBe(false);
  });

  it('opens on a failure ratio above the threshold once enough requests were seen', () => {
    const b = new CircuitBreaker({ ...opts, consecutiveFailures: 100 });
    for (let i = 0; i < 4; i++) b.onSuccess(i);
    for (let i = 4; i < 9; i++) b.onFailure(i);
    expect(b.state(9)).toBe('closed'); // 5 of 9: too few requests to judge
    b.onFailure(9); // 6 of 10 failed
    expect(b.state(10)).toBe('open');
  });

  it('judges the ratio over its window only: outcomes older than the window no longer count', () => {
    // 9 failures (too few requests to judge), then 5 successes and 5 failures: 14 of 19 failed if the first
    // nine still count, 5 of 10 (not above the ratio) if they have left the 10-s window.
    const run = (laterAt: number) => {
      const b = new CircuitBreaker({ ...opts, consecutiveFailures: 100 });
      for (let i = 0; i < 9; i++) b.onFailure(i);
      for (let i = 0; i < 5; i++) b.onSuccess(laterAt + i);
      for (let i = 5; i < 10; i++) b.onFailure(laterAt + i);
      return b.state(laterAt + 10);
    };
    expect(run(8_000)).toBe('open');
    expect(run(15_000)).toBe('closed');
  });

  it('does not judge a ratio on too few requests', () => {
    const b = new CircuitBreaker({ ...opts, consecutiveFailures: 100 });
    b.onSuccess(0);
    b.onFailure(1);
    b.onFailure(2);
    expect(b.state(3)).toBe('closed');
  });

  it('half-opens after the cooldown, lets exactly one probe through, and closes on its success', () => {
    const b = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) b.onFailure(0);
    expect(b.state(1000)).toBe('half_open');
    expect(b.tryAcquire(1000)).toBe(true);
    expect(b.tryAcquire(1001)).toBe(false);
    b.onSuccess(1100);
    expect(b.state(1100)).toBe('closed');
    expect(b.tryAcquire(1101)).toBe(true);
  });

  it('re-opens for longer when the probe fails', () => {
    const b = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) b.onFailure(0);
    expect(b.tryAcquire(1000)).toBe(true);
    b.onFailure(1000);
    expect(b.state(1999)).toBe('open');
    expect(b.state(2999)).toBe('open'); // cooldown doubled to 2 s
    expect(b.state(3000)).toBe('half_open');
  });

  it('a released probe frees the half-open slot without a verdict', () => {
    const b = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) b.onFailure(0);
    expect(b.tryAcquire(1000)).toBe(true);
    b.release();
    expect(b.tryAcquire(1001)).toBe(true);
  });
});
