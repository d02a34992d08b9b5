// Bounds on a JSON body's shape, checked before the schema and before anything walks the body recursively
// (serializing it for a provider, validating unknown fields): a small body nested ten thousand levels deep
// parses fine and then breaks whatever recurses over it. Iterative, so the check itself cannot overflow.
import type { preValidationHookHandler } from 'fastify';
import { badRequest } from '../core/errors.ts';

export interface ShapeLimits {
  maxDepth: number;
  /** Items of one array, keys of one object. */
  maxItems: number;
}

export const DEFAULT_SHAPE: ShapeLimits = Object.freeze({ maxDepth: 64, maxItems: 10_000 });

/** Where the body breaks a limit (a path like `messages.0.content`), and how; undefined when it is fine. */
export function shapeProblem(body: unknown, limits: ShapeLimits = DEFAULT_SHAPE): { path: string; message: string } | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: body, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= limits.maxDepth) return { path, message: `nests deeper than ${limits.maxDepth} levels` };
    // Every request's body passes here: arrays are walked in place, and a child's path is made only for
    // children that are containers themselves.
    const keys = Array.isArray(value) ? undefined : Object.keys(value);
    const n = keys ? keys.length : (value as unknown[]).length;
    if (n > limits.maxItems) return { path, message: `has ${n} ${keys ? 'keys' : 'items'}; at most ${limits.maxItems} are accepted` };
    for (let i = 0; i < n; i++) {
      const v = keys ? (value as Record<string, unknown>)[keys[i]] : (value as unknown[])[i];
      if (v === null || typeof v !== 'object') continue;
      const k = keys ? keys[i] : String(i);
      stack.push({ value: v, depth: depth + 1, path: path === '' ? k : `${path}.${k}` });
    }
  }
  return undefined;
}

/** preValidation hook: a body out of bounds is a 400 naming the field, before any validation. */
export function limitBodyShape(limits: ShapeLimits = DEFAULT_SHAPE): preValidationHookHandler {
  return (request, _reply, done) => {
    const problem = shapeProblem(request.body, limits);
    done(problem ? badRequest(`body${problem.path ? `.${problem.path}` : ''} ${problem.message}`, 'invalid_body_shape', problem.path || undefined) : undefined);
  };
}
