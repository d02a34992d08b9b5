import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { forbidden, unauthorized } from '../core/errors.ts';
import type { KeyRecord, KeyStore } from '../router/auth/key-store.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: KeyRecord | null;
  }
}

export function installAuth(app: FastifyInstance): void {
  app.decorateRequest('apiKey', null);
}

/** The key presented as `Authorization: Bearer <key>`, verified against the stored hashes. */
function authenticate(keys: KeyStore, request: FastifyRequest): KeyRecord {
  const header = request.headers.authorization;
  if (header === undefined) throw unauthorized('missing Authorization header: send "Authorization: Bearer <key>"');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthorized('Authorization header must be "Bearer <key>"');
  const rec = keys.lookup(m[1]);
  if (!rec || rec.revoked_at !== null) throw unauthorized('invalid or revoked API key');
  if (rec.disabled) throw unauthorized('this API key is disabled');
  if (rec.expires_at !== null && Date.parse(rec.expires_at) <= Date.now()) throw unauthorized(`this API key expired at ${rec.expires_at}`);
  return rec;
}

/**
 * An onRequest hook that authenticates, then lets `admit` refuse the key for this route. It runs before the
 * body is parsed or validated, so a bad key is a 401 whatever the body. Callback style, not async: a promise
 * per request for work that never waits showed in the router's cost.
 */
function keyHook(keys: KeyStore, admit: (key: KeyRecord) => void): onRequestHookHandler {
  return (request, _reply, done) => {
    let err: Error | undefined;
    try {
      const key = authenticate(keys, request);
      admit(key);
      request.apiKey = key;
    } catch (e) {
      err = e as Error;
    }
    done(err);
  };
}

/** onRequest hook: any key in force. */
export const requireKey = (keys: KeyStore): onRequestHookHandler => keyHook(keys, () => undefined);

/** onRequest hook: a management key (its organisation's keys, policies, audit log and usage). */
export const requireManagementKey = (keys: KeyStore): onRequestHookHandler =>
  keyHook(keys, (key) => {
    if (!key.management) throw forbidden('this route needs a management key (npm run keys -- create --management, or POST /api/v1/keys with one)');
  });

/** The authenticated key of a request that passed requireKey. */
export function keyOf(request: FastifyRequest): KeyRecord {
  if (!request.apiKey) throw unauthorized('authentication required');
  return request.apiKey;
}

/** onRequest hook for operator routes (/metrics, /docs): a fixed bearer token, compared in constant time. */
export function requireToken(token: string): onRequestHookHandler {
  const want = createHash('sha256').update(token).digest();
  return (request, _reply, done) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const got = createHash('sha256')
      .update(m?.[1] ?? '')
      .digest();
    done(m && timingSafeEqual(got, want) ? undefined : unauthorized('this operator route needs "Authorization: Bearer <OPS_TOKEN>"'));
  };
}
