import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** GET /healthz: 200 while the database answers, 503 otherwise. */
export async function healthRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/healthz',
    { schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }), 503: z.object({ status: z.literal('unavailable') }) } } },
    async (_request, reply) => {
      let ok = false;
      try {
        ok = await app.store.ping();
      } catch {
        ok = false;
      }
      return ok ? { status: 'ok' as const } : reply.status(503).send({ status: 'unavailable' as const });
    },
  );
}
