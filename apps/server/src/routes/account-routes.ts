import { ChangePasswordRequest, DeleteAccountRequest, ErrorBody, SessionsResponse } from '@chat/schema';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hashToken } from '../auth/tokens.js';
import { SESSION_COOKIE, requireUser } from '../plugins/auth.js';

/**
 * Your own account: change your password (your other sessions end), list
 * your sessions and end any of them. Sockets of an ended session are closed
 * (4001) on every node.
 */
export async function accountRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.addHook('onRequest', requireUser);
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
  const closeSockets = async (request: FastifyRequest, hashes: string[]) => {
    try {
      await app.sessionCloser.sessions(hashes);
    } catch (err) {
      // The sessions are gone from the database; only other nodes' sockets stay open until they reconnect.
      request.log.error({ err }, 'could not tell the other nodes that sessions ended');
    }
  };

  app.put(
    '/api/me/password',
    { schema: { tags: ['account'], body: ChangePasswordRequest, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      const { currentPassword, newPassword } = request.body;
      const ended = await app.auth.changePassword(request.user!, request.sessionToken!, currentPassword, newPassword);
      request.log.info({ user: request.user!.username, sessionsEnded: ended.length }, 'password changed');
      await closeSockets(request, ended);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/api/me',
    { schema: { tags: ['account'], body: DeleteAccountRequest, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      const user = request.user!;
      await app.users.deleteOwn(user.id, user.username, request.body?.password);
      request.log.info({ user: user.username }, 'account deleted');
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/me/sessions',
    { schema: { tags: ['account'], response: { 200: SessionsResponse, ...errors } } },
    async (request) => ({ sessions: await app.auth.sessions(request.user!, request.sessionToken!) }),
  );

  app.delete(
    '/api/me/sessions/:id',
    { schema: { tags: ['account'], params: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/) }), response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      const ended = await app.auth.revokeSession(request.user!, request.params.id);
      await closeSockets(request, [ended]);
      // Ending the session you asked with is signing out.
      if (ended === hashToken(request.sessionToken!)) reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );
}
