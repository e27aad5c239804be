import { CreateRoomRequest, ErrorBody, HistoryQuery, HistoryResponse, Room, RoomId, RoomSummary } from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ChatError } from '../chat/chat-error.js';
import { toChatMessage } from '../chat/wire.js';
import { requireUser } from '../plugins/auth.js';
import { ConflictError } from '../storage/store.js';

/** Rooms for signed-in users: list (with unread counts), create, read history. */
export async function roomRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  // onRequest: the session is checked before the body is parsed or validated (401 before 400).
  app.addHook('onRequest', requireUser);
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

  app.get(
    '/api/rooms',
    { schema: { tags: ['rooms'], response: { 200: z.object({ rooms: z.array(RoomSummary) }), ...errors } } },
    async (request) => {
      const rooms = await app.store.listRoomsForUser(request.user!.id);
      return {
        rooms: rooms.map((r) => ({
          id: r.id,
          title: r.title,
          topic: r.topic,
          private: r.private,
          archived: r.archived,
          lastSeq: r.lastSeq,
          joined: r.joined,
          unread: r.unread,
        })),
      };
    },
  );

  app.post(
    '/api/rooms',
    { schema: { tags: ['rooms'], body: CreateRoomRequest, response: { 201: z.object({ room: Room }), ...errors } } },
    async (request, reply) => {
      const user = request.user!;
      try {
        const room = await app.store.createRoom({ ...request.body, topic: '', private: false, createdBy: user.id });
        await app.store.addMember(room.id, user.id);
        request.log.info({ user: user.username, room: room.id }, 'room created');
        return reply.status(201).send({ room });
      } catch (err) {
        if (err instanceof ConflictError) throw new ChatError('conflict', `a room ${request.body.id} exists`);
        throw err;
      }
    },
  );

  app.get(
    '/api/rooms/:id/messages',
    {
      schema: {
        tags: ['rooms'],
        params: z.object({ id: RoomId }),
        querystring: HistoryQuery,
        response: { 200: HistoryResponse, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      const user = request.user!;
      const room = await app.store.getRoom(id);
      if (!room) throw new ChatError('not_found', `no room ${id}`);
      if (await app.store.isBanned(id, user.id)) throw new ChatError('forbidden', 'you are banned from this room');
      if (room.private && !(await app.store.isMember(id, user.id))) throw new ChatError('forbidden', 'this room is private');
      const messages = await app.store.messagesBefore(id, request.query.before, request.query.limit);
      return { messages: messages.map(toChatMessage) };
    },
  );
}
