import {
  CreateRoomRequest,
  ErrorBody,
  HistoryQuery,
  HistoryResponse,
  MembersResponse,
  RoleRequest,
  Room,
  RoomId,
  RoomSummary,
  UpdateRoomRequest,
  Username,
  UsernameBody,
} from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../plugins/audit.js';
import { requireUser } from '../plugins/auth.js';

/**
 * Rooms for signed-in users: list (with unread counts), create, read history,
 * and what a room's owner and moderators do to it (the rule module decides
 * who may: a route only names the operation).
 */
export async function roomRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  // onRequest: the session is checked before the body is parsed or validated (401 before 400).
  app.addHook('onRequest', requireUser);
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
  const RoomParams = z.object({ id: RoomId });
  const asker = (request: { user?: { id: number } | undefined }) => ({ userId: request.user!.id });

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
        params: RoomParams,
        querystring: HistoryQuery,
        response: { 200: HistoryResponse, ...errors },
      },
    },
    async (request) => ({
      messages: await app.rooms.history(asker(request), request.params.id, request.query.before, request.query.limit),
    }),
  );

  app.patch(
    '/api/rooms/:id',
    { schema: { tags: ['rooms'], params: RoomParams, body: UpdateRoomRequest, response: { 200: z.object({ room: Room }), ...errors } } },
    async (request) => {
      const room = await app.rooms.update(asker(request), request.params.id, request.body);
      await recordAudit(request, 'update_room', { room: room.id, changes: Object.keys(request.body) });
      return { room };
    },
  );

  app.delete(
    '/api/rooms/:id',
    { schema: { tags: ['rooms'], params: RoomParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await app.rooms.delete(asker(request), request.params.id);
      await recordAudit(request, 'delete_room', { room: request.params.id });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/rooms/:id/members',
    { schema: { tags: ['rooms'], params: RoomParams, response: { 200: MembersResponse, ...errors } } },
    async (request) => ({ members: await app.rooms.members(asker(request), request.params.id) }),
  );

  app.delete(
    '/api/rooms/:id/messages/:messageId',
    {
      schema: {
        tags: ['rooms'],
        params: z.object({ id: RoomId, messageId: z.coerce.number().int().positive() }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const message = await app.rooms.deleteMessage(asker(request), request.params.id, request.params.messageId);
      // One's own message is no moderation: only someone else's is audited.
      if (message.authorId !== request.user!.id) {
        await recordAudit(request, 'delete_message', { room: request.params.id, target: message.author, message: message.id });
      }
      return reply.status(204).send(null);
    },
  );

  const memberActions = {
    kick: (a: { userId: number }, room: string, username: string) => app.rooms.kick(a, room, username),
    ban: (a: { userId: number }, room: string, username: string) => app.rooms.ban(a, room, username),
    unban: (a: { userId: number }, room: string, username: string) => app.rooms.unban(a, room, username),
    transfer: (a: { userId: number }, room: string, username: string) => app.rooms.transfer(a, room, username),
  };
  const memberRoute = (method: 'POST' | 'DELETE', path: string, action: keyof typeof memberActions) =>
    app.route({
      method,
      url: `/api/rooms/:id/${path}`,
      schema: { tags: ['rooms'], params: RoomParams, body: UsernameBody, response: { 204: z.null(), ...errors } },
      handler: async (request, reply) => {
        const user = await memberActions[action](asker(request), request.params.id, request.body.username);
        await recordAudit(request, action, { room: request.params.id, target: user.username });
        return reply.status(204).send(null);
      },
    });
  memberRoute('POST', 'kick', 'kick');
  memberRoute('POST', 'bans', 'ban');
  memberRoute('DELETE', 'bans', 'unban');
  memberRoute('POST', 'owner', 'transfer');

  app.put(
    '/api/rooms/:id/members/:username/role',
    {
      schema: {
        tags: ['rooms'],
        params: z.object({ id: RoomId, username: Username }),
        body: RoleRequest,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const { id, username } = request.params;
      await app.rooms.setRole(asker(request), id, username, request.body.role);
      await recordAudit(request, 'set_role', { room: id, target: username, role: request.body.role });
      return reply.status(204).send(null);
    },
  );
}
