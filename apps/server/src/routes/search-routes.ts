import { ErrorBody, SearchQuery, SearchResponse } from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { requireUser } from '../plugins/auth.js';

/** GET /api/search: full-text search over what the caller may read (chat/search.ts, docs/search.md). */
export async function searchRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.addHook('onRequest', requireUser);
  app.get(
    '/api/search',
    {
      schema: {
        tags: ['messages'],
        querystring: SearchQuery,
        response: { 200: SearchResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      },
    },
    async (request) => app.chat.search.search({ userId: request.user!.id }, request.query),
  );
}
