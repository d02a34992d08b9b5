import type { FastifyRequest } from 'fastify';
import { unauthorized } from '../core/errors.ts';
import type { KeyRecord, KeyStore } from '../router/auth/key-store.ts';

/** The key presented as `Authorization: Bearer <key>`, verified against the stored hashes. */
export function authenticate(keys: KeyStore, request: FastifyRequest): KeyRecord {
  const header = request.headers.authorization;
  if (header === undefined) throw unauthorized('missing Authorization header: send "Authorization: Bearer <key>"');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthorized('Authorization header must be "Bearer <key>"');
  const rec = keys.verify(m[1]);
  if (!rec) throw unauthorized('invalid or revoked API key');
  return rec;
}
