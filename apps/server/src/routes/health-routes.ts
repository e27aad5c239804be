import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * GET /healthz: 200 while the database (and, with several nodes, the broker)
 * answers, 503 otherwise — a load balancer sends no one to a node that cannot
 * store or fan out. `node` names the node that answered.
 */
export async function healthRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        response: {
          200: z.object({ status: z.literal('ok'), node: z.string() }),
          503: z.object({ status: z.literal('unavailable'), node: z.string() }),
        },
      },
    },
    async (_request, reply) => {
      let ok = false;
      try {
        ok = await app.chat.ready();
      } catch {
        ok = false;
      }
      const node = app.config.nodeId;
      return ok ? { status: 'ok' as const, node } : reply.status(503).send({ status: 'unavailable' as const, node });
    },
  );
}
