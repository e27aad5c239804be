import {
  AdminCreateRoomRequest,
  AdminUserResponse,
  AuditQuery,
  AuditResponse,
  AdminsResponse,
  StatsResponse,
  ErrorBody,
  InstanceRoleRequest,
  PasswordResetRequest,
  PurgeGuestsRequest,
  PurgeGuestsResponse,
  UsersQuery,
  UsersResponse,
  MembersResponse,
  Room,
  RoomId,
  UpdateRoomRequest,
  Username,
  UsernameBody,
} from '@chat/schema';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../plugins/audit.js';
import { requireAdmin } from '../plugins/auth.js';

/**
 * /api/admin: room administration with `Authorization: Bearer $ADMIN_TOKEN`.
 * Changes reach live connections at once through the chat domain.
 */
export async function adminRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  // onRequest: the token is checked before the body is parsed or validated (401/503 before 400).
  app.addHook('onRequest', requireAdmin);
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };
  const RoomParams = z.object({ id: RoomId });
  // Admin actions name their room and user as the audit log's room and target.
  const audit = (request: FastifyRequest, action: string, { room, user, ...rest }: Record<string, unknown>) =>
    recordAudit(request, action, { room: room as string | undefined, target: user as string | undefined, admin: true, ...rest });

  app.get(
    '/api/admin/admins',
    { schema: { tags: ['admin'], response: { 200: AdminsResponse, ...errors } } },
    async () => ({ admins: await app.auth.admins() }),
  );

  const UserParams = z.object({ username: Username });

  app.get(
    '/api/admin/stats',
    { schema: { tags: ['admin'], response: { 200: StatsResponse, ...errors } } },
    async () => ({ node: app.config.nodeId, uptimeSeconds: process.uptime(), ...(await app.metrics.snapshot()) }),
  );

  app.get(
    '/api/admin/audit',
    { schema: { tags: ['admin'], querystring: AuditQuery, response: { 200: AuditResponse, ...errors } } },
    async (request) => ({ entries: await app.auditLog.list(request.query) }),
  );
  const asker = (request: FastifyRequest) => (request.user ? { id: request.user.id } : ('token' as const));

  app.get(
    '/api/admin/users',
    { schema: { tags: ['admin'], querystring: UsersQuery, response: { 200: UsersResponse, ...errors } } },
    async (request) => {
      const { query, guests, after, limit } = request.query;
      return { users: await app.users.list({ query, guests: guests === undefined ? undefined : guests === 'true', after, limit }) };
    },
  );

  app.get(
    '/api/admin/users/:username',
    { schema: { tags: ['admin'], params: UserParams, response: { 200: AdminUserResponse, ...errors } } },
    async (request) => app.users.view(request.params.username),
  );

  for (const action of ['deactivate', 'reactivate'] as const) {
    app.post(
      `/api/admin/users/:username/${action}`,
      { schema: { tags: ['admin'], params: UserParams, response: { 204: z.null(), ...errors } } },
      async (request, reply) => {
        const { username } = request.params;
        if (action === 'deactivate') await app.users.deactivate(asker(request), username);
        else await app.users.reactivate(username);
        await audit(request, `${action}_user`, { user: username });
        return reply.status(204).send(null);
      },
    );
  }

  app.delete(
    '/api/admin/users/:username',
    { schema: { tags: ['admin'], params: UserParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await app.users.delete(asker(request), request.params.username);
      await audit(request, 'delete_user', { user: request.params.username });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/guests/purge',
    { schema: { tags: ['admin'], body: PurgeGuestsRequest, response: { 200: PurgeGuestsResponse, ...errors } } },
    async (request) => {
      const purged = await app.users.purgeGuests(request.body.inactiveDays);
      await audit(request, 'purge_guests', { inactiveDays: request.body.inactiveDays, purged });
      return { purged };
    },
  );

  app.put(
    '/api/admin/users/:username/password',
    { schema: { tags: ['admin'], params: UserParams, body: PasswordResetRequest, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await app.users.resetPassword(request.params.username, request.body.password);
      await audit(request, 'reset_password', { user: request.params.username });
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/api/admin/users/:username/role',
    { schema: { tags: ['admin'], params: z.object({ username: Username }), body: InstanceRoleRequest, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await app.auth.setRole(request.params.username, request.body.role);
      await audit(request, 'set_instance_role', { user: request.params.username, role: request.body.role });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/admin/rooms',
    { schema: { tags: ['admin'], response: { 200: z.object({ rooms: z.array(Room) }), ...errors } } },
    async () => ({ rooms: await app.rooms.list('admin') }),
  );

  app.post(
    '/api/admin/rooms',
    { schema: { tags: ['admin'], body: AdminCreateRoomRequest, response: { 201: z.object({ room: Room }), ...errors } } },
    async (request, reply) => {
      const room = await app.rooms.create('admin', request.body);
      await audit(request, 'create_room', { room: room.id });
      return reply.status(201).send({ room });
    },
  );

  app.get(
    '/api/admin/rooms/:id',
    { schema: { tags: ['admin'], params: RoomParams, response: { 200: z.object({ room: Room }), ...errors } } },
    async (request) => ({ room: await app.rooms.get('admin', request.params.id) }),
  );

  app.patch(
    '/api/admin/rooms/:id',
    {
      schema: { tags: ['admin'], params: RoomParams, body: UpdateRoomRequest, response: { 200: z.object({ room: Room }), ...errors } },
    },
    async (request) => {
      const room = await app.rooms.update('admin', request.params.id, request.body);
      await audit(request, 'update_room', { room: room.id, changes: Object.keys(request.body) });
      return { room };
    },
  );

  app.delete(
    '/api/admin/rooms/:id',
    { schema: { tags: ['admin'], params: RoomParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await app.rooms.delete('admin', request.params.id);
      await audit(request, 'delete_room', { room: request.params.id });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/admin/rooms/:id/members',
    { schema: { tags: ['admin'], params: RoomParams, response: { 200: MembersResponse, ...errors } } },
    async (request) => ({ members: await app.rooms.members('admin', request.params.id) }),
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
      await app.rooms.deleteMessage('admin', id, messageId);
      await audit(request, 'delete_message', { room: id, message: messageId });
      return reply.status(204).send(null);
    },
  );

  // Kick, ban, unban and add: one domain call each, audited under these names.
  const memberActions = {
    kick: (room: string, username: string) => app.rooms.kick('admin', room, username),
    ban: (room: string, username: string) => app.rooms.ban('admin', room, username),
    unban: (room: string, username: string) => app.rooms.unban('admin', room, username),
    add_member: (room: string, username: string) => app.rooms.addMember('admin', room, username),
  };
  const memberRoute = (method: 'POST' | 'DELETE', path: string, action: keyof typeof memberActions) =>
    app.route({
      method,
      url: `/api/admin/rooms/:id/${path}`,
      schema: { tags: ['admin'], params: RoomParams, body: UsernameBody, response: { 204: z.null(), ...errors } },
      handler: async (request, reply) => {
        const user = await memberActions[action](request.params.id, request.body.username);
        await audit(request, action, { room: request.params.id, user: user.username });
        return reply.status(204).send(null);
      },
    });
  memberRoute('POST', 'kick', 'kick');
  memberRoute('POST', 'bans', 'ban');
  memberRoute('DELETE', 'bans', 'unban');
  // Not in the v1 contract's list, but private rooms need a way in.
  memberRoute('POST', 'members', 'add_member');
}
