import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { safeEqual } from '../auth/tokens.js';
import { createChatMetrics, type ChatMetrics } from '../metrics.js';

/**
 * GET /metrics in Prometheus text format. Guarded by METRICS_TOKEN, or else
 * ADMIN_TOKEN, as a Bearer token: it tells an outsider how busy the server is.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('metrics', createChatMetrics());
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const token = app.config.metricsToken ?? app.config.adminToken;
      if (!token) {
        return reply.status(503).send({ error: { code: 'admin_disabled', message: 'set METRICS_TOKEN or ADMIN_TOKEN to enable /metrics' } });
      }
      const auth = request.headers.authorization;
      if (!safeEqual(auth?.startsWith('Bearer ') ? auth.slice(7).trim() : '', token)) {
        return reply.status(401).send({ error: { code: 'unauthorized', message: 'the metrics token is missing or wrong' } });
      }
      return reply.type(app.metrics.contentType).send(await app.metrics.render());
    });
  },
  { name: 'metrics', dependencies: ['config'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ChatMetrics;
  }
}
