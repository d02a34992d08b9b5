// A router under the supervisor serves the public port alone: what it does not answer itself (analytics,
// the web pages, their documentation) it forwards to the data process on loopback, status, headers and
// body as they come, so one port serves the whole API.
import type { FastifyInstance } from 'fastify';
import { Pool } from 'undici';
import { ApiError } from '../core/errors.ts';

/** Connection-level headers, which belong to each hop, not to the message. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'proxy-connection', 'te', 'trailer']);

export function installForwarding(app: FastifyInstance, baseUrl: string): void {
  const pool = new Pool(baseUrl, { connections: 32 });
  app.addHook('onClose', async () => pool.close());
  // The lowest-priority route: every route of the router's own matches first.
  app.all('/*', { schema: { hide: true } }, async (request, reply) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(request.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    const b = request.body;
    const body = b === undefined || b === null ? undefined : typeof b === 'string' || Buffer.isBuffer(b) ? b : JSON.stringify(b);
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await pool.request({ path: request.url, method: request.method as 'GET', headers, body });
    } catch {
      throw new ApiError(503, 'service_unavailable', 'analytics_unavailable', 'the analytics service is not reachable right now; retry shortly', { retryAfterSeconds: 1 });
    }
    reply.code(res.statusCode);
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP.has(k)) reply.header(k, v);
    return reply.send(res.body);
  });
}
