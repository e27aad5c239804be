import {
  ErrorBody,
  Invitation,
  InvitationsResponse,
  InviteLinkRequest,
  InviteLinkResponse,
  OpenConversationRequest,
  RoomId,
  RoomSummaryResponse,
  UsernameBody,
} from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../plugins/audit.js';
import { requireUser } from '../plugins/auth.js';

/** Direct conversations and invitations: how a signed-in user gets into a private room without an admin. */
export async function conversationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.addHook('onRequest', requireUser);
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
  const RoomParams = z.object({ id: RoomId });
  const InvitationParams = z.object({ id: z.coerce.number().int().positive() });
  const asker = (request: { user?: { id: number } | undefined }) => ({ userId: request.user!.id });

  app.post(
    '/api/conversations',
    {
      schema: {
        tags: ['conversations'],
        body: OpenConversationRequest,
        response: { 200: RoomSummaryResponse, 201: RoomSummaryResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { room, created } = await app.conversations.open(request.user!.id, request.body.usernames);
      return reply.status(created ? 201 : 200).send({ room });
    },
  );

  app.post(
    '/api/rooms/:id/invitations',
    {
      schema: { tags: ['invitations'], params: RoomParams, body: UsernameBody, response: { 201: z.object({ invitation: Invitation }), ...errors } },
    },
    async (request, reply) => {
      const invitation = await app.invitations.invite(asker(request), request.params.id, request.body.username);
      await recordAudit(request, 'invite', { room: request.params.id, target: invitation.username ?? undefined, invitation: invitation.id });
      return reply.status(201).send({ invitation });
    },
  );

  app.get(
    '/api/rooms/:id/invitations',
    { schema: { tags: ['invitations'], params: RoomParams, response: { 200: InvitationsResponse, ...errors } } },
    async (request) => ({ invitations: await app.invitations.forRoom(asker(request), request.params.id) }),
  );

  app.post(
    '/api/rooms/:id/invite-links',
    {
      schema: { tags: ['invitations'], params: RoomParams, body: InviteLinkRequest.default({}), response: { 201: InviteLinkResponse, ...errors } },
    },
    async (request, reply) => {
      const link = await app.invitations.createLink(asker(request), request.params.id, request.body);
      // The token itself never goes into the log: it is a way in.
      await recordAudit(request, 'create_invite_link', { room: request.params.id, invitation: link.invitation.id });
      return reply.status(201).send(link);
    },
  );

  app.get(
    '/api/invitations',
    { schema: { tags: ['invitations'], response: { 200: InvitationsResponse, ...errors } } },
    async (request) => ({ invitations: await app.invitations.mine(request.user!.id) }),
  );

  for (const answer of ['accept', 'decline'] as const) {
    app.post(
      `/api/invitations/:id/${answer}`,
      { schema: { tags: ['invitations'], params: InvitationParams, response: { 204: z.null(), ...errors } } },
      async (request, reply) => {
        await app.invitations.answer(request.user!.id, request.params.id, answer === 'accept' ? 'accepted' : 'declined');
        return reply.status(204).send(null);
      },
    );
  }

  app.delete(
    '/api/invitations/:id',
    { schema: { tags: ['invitations'], params: InvitationParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      const room = await app.invitations.revoke(asker(request), request.params.id);
      await recordAudit(request, 'revoke_invitation', { room, invitation: request.params.id });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/invite-links/:token/redeem',
    {
      schema: {
        tags: ['invitations'],
        params: z.object({ token: z.string().min(16).max(64) }),
        response: { 200: z.object({ room: z.string() }), ...errors },
      },
    },
    async (request) => ({ room: await app.invitations.redeem(request.user!.id, request.params.token) }),
  );
}
