import { AdminCreateRoomRequest, ErrorBody, MembersResponse, Room, RoomId, UpdateRoomRequest, UsernameBody } from '@chat/schema';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ChatError } from '../chat/chat-error.js';
import { requireAdmin } from '../plugins/auth.js';
import { ConflictError, type UserRecord } from '../storage/store.js';

/**
 * /api/admin: room administration with `Authorization: Bearer $ADMIN_TOKEN`.
 * Changes reach live connections at once through the chat domain.
 */
export async function adminRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  // onRequest: the token is checked before the body is parsed or validated (401/503 before 400).
  app.addHook('onRequest', requireAdmin);
  const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };
  const RoomParams = z.object({ id: RoomId });
  const audit = (request: FastifyRequest, action: string, details: Record<string, unknown>) =>
    request.log.info({ admin: true, action, ...details }, 'admin action');

  const roomOr404 = async (id: string) => {
    const room = await app.store.getRoom(id);
    if (!room) throw new ChatError('not_found', `no room ${id}`);
    return room;
  };
  const userOr404 = async (username: string): Promise<UserRecord> => {
    const user = await app.store.findUserByName(username);
    if (!user) throw new ChatError('not_found', `no user ${username}`);
    return user;
  };

  app.get(
    '/api/admin/rooms',
    { schema: { tags: ['admin'], response: { 200: z.object({ rooms: z.array(Room) }), ...errors } } },
    async () => ({ rooms: await app.store.listRooms() }),
  );

  app.post(
    '/api/admin/rooms',
    { schema: { tags: ['admin'], body: AdminCreateRoomRequest, response: { 201: z.object({ room: Room }), ...errors } } },
    async (request, reply) => {
      const { id, title, topic, private: isPrivate } = request.body;
      try {
        const room = await app.store.createRoom({ id, title, topic: topic ?? '', private: isPrivate ?? false, createdBy: null });
        audit(request, 'create_room', { room: id });
        return reply.status(201).send({ room });
      } catch (err) {
        if (err instanceof ConflictError) throw new ChatError('conflict', `a room ${id} exists`);
        throw err;
      }
    },
  );

  app.get(
    '/api/admin/rooms/:id',
    { schema: { tags: ['admin'], params: RoomParams, response: { 200: z.object({ room: Room }), ...errors } } },
    async (request) => ({ room: await roomOr404(request.params.id) }),
  );

  app.patch(
    '/api/admin/rooms/:id',
    {
      schema: { tags: ['admin'], params: RoomParams, body: UpdateRoomRequest, response: { 200: z.object({ room: Room }), ...errors } },
    },
    async (request) => {
      const room = await app.store.updateRoom(request.params.id, request.body);
      if (!room) throw new ChatError('not_found', `no room ${request.params.id}`);
      await app.chat.updateRoom(room);
      audit(request, 'update_room', { room: room.id, changes: Object.keys(request.body) });
      return { room };
    },
  );

  app.delete(
    '/api/admin/rooms/:id',
    { schema: { tags: ['admin'], params: RoomParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      if (!(await app.store.deleteRoom(request.params.id))) throw new ChatError('not_found', `no room ${request.params.id}`);
      await app.chat.roomDeleted(request.params.id);
      audit(request, 'delete_room', { room: request.params.id });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/admin/rooms/:id/members',
    { schema: { tags: ['admin'], params: RoomParams, response: { 200: MembersResponse, ...errors } } },
    async (request) => {
      await roomOr404(request.params.id);
      const [members, online] = await Promise.all([app.store.listMembers(request.params.id), app.chat.onlineUsers(request.params.id)]);
      return {
        members: members.map((m) => ({
          username: m.username,
          online: online.has(m.userId),
          readSeq: m.readSeq,
        })),
      };
    },
  );

  app.delete(
    '/api/admin/rooms/:id/messages/:messageId',
    {
      schema: {
        tags: ['admin'],
        params: z.object({ id: RoomId, messageId: z.coerce.number().int().positive() }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const { id, messageId } = request.params;
      await roomOr404(id);
      const message = await app.store.deleteMessage(id, messageId, Date.now());
      if (!message) throw new ChatError('not_found', `no message ${messageId} in ${id}`);
      await app.chat.messageUpdated(message);
      audit(request, 'delete_message', { room: id, message: messageId });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/rooms/:id/kick',
    { schema: { tags: ['admin'], params: RoomParams, body: UsernameBody, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await roomOr404(request.params.id);
      const user = await userOr404(request.body.username);
      await app.store.removeMember(request.params.id, user.id);
      await app.chat.memberRemoved(request.params.id, user.id, 'kicked');
      audit(request, 'kick', { room: request.params.id, user: user.username });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/rooms/:id/bans',
    { schema: { tags: ['admin'], params: RoomParams, body: UsernameBody, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await roomOr404(request.params.id);
      const user = await userOr404(request.body.username);
      await app.store.addBan(request.params.id, user.id);
      await app.store.removeMember(request.params.id, user.id);
      await app.chat.memberRemoved(request.params.id, user.id, 'banned');
      audit(request, 'ban', { room: request.params.id, user: user.username });
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/api/admin/rooms/:id/bans',
    { schema: { tags: ['admin'], params: RoomParams, body: UsernameBody, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await roomOr404(request.params.id);
      const user = await userOr404(request.body.username);
      if (!(await app.store.removeBan(request.params.id, user.id))) {
        throw new ChatError('not_found', `${user.username} is not banned from ${request.params.id}`);
      }
      audit(request, 'unban', { room: request.params.id, user: user.username });
      return reply.status(204).send(null);
    },
  );

  /** Not in the v1 contract's list, but private rooms need a way in. */
  app.post(
    '/api/admin/rooms/:id/members',
    { schema: { tags: ['admin'], params: RoomParams, body: UsernameBody, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await roomOr404(request.params.id);
      const user = await userOr404(request.body.username);
      await app.store.removeBan(request.params.id, user.id);
      await app.store.addMember(request.params.id, user.id);
      audit(request, 'add_member', { room: request.params.id, user: user.username });
      return reply.status(204).send(null);
    },
  );
}
