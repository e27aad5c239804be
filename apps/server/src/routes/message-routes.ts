import {
  ErrorBody,
  MessageResponse,
  MessagesResponse,
  ReactionParams,
  ReactionResponse,
  RepliesQuery,
  RoomId,
} from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../plugins/audit.js';
import { requireUser } from '../plugins/auth.js';
import { toChatMessage } from '../chat/wire.js';

/**
 * What is done to one message besides sending and deleting it: its thread
 * (replies), reactions, pins. The socket offers the same (`thread`,
 * `react`/`unreact`, `pin`/`pins`) on the same domain services.
 */
export async function messageRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.addHook('onRequest', requireUser);
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };
  const MessageParams = z.object({ id: RoomId, messageId: z.coerce.number().int().positive() });
  const asker = (request: { user?: { id: number } | undefined }) => ({ userId: request.user!.id });

  app.get(
    '/api/rooms/:id/messages/:messageId/replies',
    { schema: { tags: ['messages'], params: MessageParams, querystring: RepliesQuery, response: { 200: MessagesResponse, ...errors } } },
    async (request) => {
      const { id, messageId } = request.params;
      return { messages: await app.chat.threads.replies(asker(request), id, messageId, request.query.after ?? 0, request.query.limit) };
    },
  );

  for (const method of ['PUT', 'DELETE'] as const) {
    app.route({
      method,
      url: '/api/rooms/:id/messages/:messageId/reactions/:emoji',
      schema: { tags: ['messages'], params: ReactionParams, response: { 200: ReactionResponse, ...errors } },
      handler: async (request) => {
        const { id, messageId, emoji } = request.params;
        return app.chat.reactions.set(request.user!, id, messageId, emoji, method === 'PUT');
      },
    });
    app.route({
      method,
      url: '/api/rooms/:id/messages/:messageId/pin',
      schema: { tags: ['messages'], params: MessageParams, response: { 200: MessageResponse, ...errors } },
      handler: async (request) => {
        const { id, messageId } = request.params;
        const { message, changed } = await app.chat.pins.set(asker(request), id, messageId, method === 'PUT');
        if (changed) await recordAudit(request, method === 'PUT' ? 'pin' : 'unpin', { room: id, target: message.author, message: messageId });
        return { message: toChatMessage(message) };
      },
    });
  }

  app.get(
    '/api/rooms/:id/pins',
    { schema: { tags: ['messages'], params: z.object({ id: RoomId }), response: { 200: MessagesResponse, ...errors } } },
    async (request) => ({ messages: await app.chat.pins.list(asker(request), request.params.id) }),
  );
}
