// Serving the built pages (web/dist) at /: exact routes for the files found at start (no wildcard, so an
// unknown /api path still gets the API's own 404). Without a build, / says how to make one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export async function registerWeb(app: FastifyInstance, dir: string): Promise<void> {
  if (!existsSync(join(dir, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`The web pages are not built (no ${join(dir, 'index.html')}): run "npm run build:web". The API is up: /docs.\n`),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    // Hashed asset names never change content: cache them for good; index.html always revalidates.
    setHeaders: (res, path) => res.setHeader('cache-control', path.includes(`${join('assets', '')}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
    preCompressed: false,
  });
}
