import { AuthResponse, Credentials, ErrorBody, GuestRequest, User } from '@chat/schema';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Session } from '../auth/auth-service.js';
import { DomainError } from '../domain-error.js';
import { KeyedRateLimiter } from '../chat/rate-limiter.js';
import { hashToken } from '../auth/tokens.js';
import { SESSION_COOKIE, requireUser, tokenFrom } from '../plugins/auth.js';

/** POST /api/auth/{register,login,guest,logout}, GET /api/me and GET /api/session. */
export async function authRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const perMinute = app.config.rateLoginsPerMinute;
  const byIp = new KeyedRateLimiter(perMinute / 60, perMinute);
  const byName = new KeyedRateLimiter(perMinute / 60, perMinute);

  const limit = (request: FastifyRequest, username: string) => {
    // Both: one IP trying many names, and many IPs trying one name.
    if (!byIp.take(request.ip) || !byName.take(username.toLowerCase())) {
      throw new DomainError('rate_limited', 'too many attempts; wait a minute');
    }
  };

  const signIn = (request: FastifyRequest, reply: FastifyReply, session: Session, status: number) => {
    reply.setCookie(SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: request.protocol === 'https',
      maxAge: Math.floor(app.config.sessionTtlMs / 1000),
    });
    request.log.info({ user: session.user.username, guest: session.user.guest }, 'signed in');
    return reply.status(status).send(session);
  };

  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, 429: ErrorBody };

  app.post(
    '/api/auth/register',
    { schema: { tags: ['auth'], body: Credentials, response: { 201: AuthResponse, ...errors } } },
    async (request, reply) => {
      limit(request, request.body.username);
      return signIn(request, reply, await app.auth.register(request.body.username, request.body.password), 201);
    },
  );

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        body: z.object({ username: z.string().max(64), password: z.string().max(256) }),
        response: { 200: AuthResponse, ...errors },
      },
    },
    async (request, reply) => {
      limit(request, request.body.username);
      return signIn(request, reply, await app.auth.login(request.body.username, request.body.password), 200);
    },
  );

  app.post(
    '/api/auth/guest',
    { schema: { tags: ['auth'], body: GuestRequest, response: { 201: AuthResponse, ...errors } } },
    async (request, reply) => {
      limit(request, request.body.username);
      return signIn(request, reply, await app.auth.guest(request.body.username), 201);
    },
  );

  app.post(
    '/api/auth/logout',
    { schema: { tags: ['auth'], response: { 204: z.null(), 401: ErrorBody } }, onRequest: requireUser },
    async (request, reply) => {
      await app.auth.logout(request.sessionToken!);
      try {
        await app.sessionCloser.sessions([hashToken(request.sessionToken!)]);
      } catch (err) {
        // The session is gone from the database (no node accepts it again) and
        // this node's sockets are closed; only other nodes' stay open until their
        // clients reconnect and are refused.
        request.log.error({ err }, 'could not tell the other nodes that a session ended');
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/me',
    { schema: { tags: ['auth'], response: { 200: z.object({ user: User }), 401: ErrorBody } }, onRequest: requireUser },
    async (request) => ({ user: request.user! }),
  );

  // The same question without the 401: a page that has just loaded asks whether anyone is signed
  // in, and "nobody" is an answer, not an error (a 401 would be logged in every browser console).
  app.get(
    '/api/session',
    { schema: { tags: ['auth'], response: { 200: z.object({ user: User.nullable() }) } } },
    async (request) => ({ user: (await app.auth.authenticate(tokenFrom(request.headers, request.cookies))) ?? null }),
  );
}
