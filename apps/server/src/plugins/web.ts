import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Where `pnpm build` puts the web client, relative to this file in dist/plugins/. */
const BUILT_CLIENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/**
 * Serves the built web client at `/` (WEB_ROOT, default apps/web/dist). When
 * it has not been built the API still runs, and the log says why / is empty.
 */
export const webPlugin = fp(
  async (app: FastifyInstance) => {
    const root = app.config.webRoot ?? BUILT_CLIENT;
    if (!existsSync(path.join(root, 'index.html'))) {
      app.log.warn({ root }, 'no built web client here: run `pnpm build` to serve it at /');
      return;
    }
    await app.register(fastifyStatic, {
      root,
      // Hashed asset names never change, so they may be cached for good; index.html must not be.
      setHeaders(res, file) {
        res.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
        // (Its Content-Security-Policy, like every answer's, comes from plugins/security.ts.)
      },
    });
  },
  { name: 'web', dependencies: ['config'] },
);
