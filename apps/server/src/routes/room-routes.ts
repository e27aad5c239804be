import { CreateRoomRequest, ErrorBody, HistoryQuery, HistoryResponse, Room, RoomId, RoomSummary } from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireUser } from '../plugins/auth.js';

/** Rooms for signed-in users: list (with unread counts), create, read history. */
export async function roomRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  // onRequest: the session is checked before the body is parsed or validated (401 before 400).
  app.addHook('onRequest', requireUser);
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

  app.get(
    '/api/rooms',
    { schema: { tags: ['rooms'], response: { 200: z.object({ rooms: z.array(RoomSummary) }), ...errors } } },
    async (request) => ({ rooms: await app.rooms.roomsFor(request.user!.id) }),
  );

  app.post(
    '/api/rooms',
    { schema: { tags: ['rooms'], body: CreateRoomRequest, response: { 201: z.object({ room: Room }), ...errors } } },
    async (request, reply) => {
      const user = request.user!;
      const room = await app.rooms.create({ userId: user.id }, request.body);
      request.log.info({ user: user.username, room: room.id }, 'room created');
      return reply.status(201).send({ room });
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
    async (request) => ({
      messages: await app.rooms.history({ userId: request.user!.id }, request.params.id, request.query.before, request.query.limit),
    }),
  );
}
