import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createAuthService } from '../auth/auth-service.js';
import { safeEqual } from '../auth/tokens.js';
import { DomainError } from '../domain-error.js';

export const SESSION_COOKIE = 'session';

/** The session token of a request: the `session` cookie or `Authorization: Bearer`. */
export function tokenFrom(headers: { authorization?: string | undefined }, cookies: Record<string, string | undefined>): string | undefined {
  const auth = headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return cookies[SESSION_COOKIE];
}

/** Accounts and sessions, and the pre-handlers that guard routes. */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(cookie);
    app.decorate('auth', createAuthService(app.store, app.config));
    app.decorateRequest('user', undefined);
    app.decorateRequest('sessionToken', undefined);
  },
  { name: 'auth', dependencies: ['storage'] },
);

/** Route hook (onRequest): 401 unless the request carries a valid session. */
export async function requireUser(request: FastifyRequest): Promise<void> {
  const token = tokenFrom(request.headers, request.cookies);
  const user = await request.server.auth.authenticate(token);
  if (!user) throw new DomainError('unauthorized', 'sign in first (session cookie or Bearer token)');
  request.user = user;
  request.sessionToken = token;
}

/**
 * Route hook (onRequest) for /api/admin: an admin account's session (cookie
 * or Bearer; the role is read with the session on every request, so a
 * demotion counts at once on every node), or ADMIN_TOKEN as a Bearer token
 * for automation. A signed-in user who is not an admin: 403. Nothing valid:
 * 401, or 503 while no ADMIN_TOKEN is configured (then only admin accounts
 * get in).
 */
export async function requireAdmin(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const expected = request.server.config.adminToken;
  const auth = request.headers.authorization;
  const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
  if (expected && bearer !== undefined && safeEqual(bearer, expected)) return;
  const token = tokenFrom(request.headers, request.cookies);
  const user = await request.server.auth.authenticate(token);
  if (user?.admin) {
    request.user = user;
    request.sessionToken = token;
    return;
  }
  if (user) throw new DomainError('forbidden', 'only an instance admin may do this');
  if (!expected) {
    throw new DomainError('admin_disabled', 'no admin credentials: sign in as an admin (pnpm admin promote <username>), or set ADMIN_TOKEN');
  }
  throw new DomainError('unauthorized', 'the admin token or session is missing or wrong');
}
