import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { DomainError } from '../domain-error.js';
import { originAllowed, originOfReferer } from '../origins.js';
import { SESSION_COOKIE } from './auth.js';

/** Methods that change nothing: no forgery check. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Web security for every answer: headers (@fastify/helmet) and a refusal of
 * cross-site writes.
 *
 * Headers: a CSP our own pages need nothing beyond (self only, sockets to
 * ourselves, no frames, no inline script), nosniff, frames refused
 * (`frame-ancestors 'none'` and `X-Frame-Options: DENY`), `Referrer-Policy:
 * same-origin`, and HSTS when the server itself speaks TLS.
 *
 * Forgery: a state-changing request that a browser could send on its own —
 * one authenticated by the session cookie — must come from our origin (or
 * ALLOWED_ORIGINS): its `Origin` (or, lacking one, its `Referer`) says so.
 * Browsers send `Origin` on every such request; one with neither header is
 * refused too. `Authorization: Bearer` clients are not affected (a page
 * elsewhere cannot make a browser send our token). The session cookie is
 * also `SameSite=Lax`, which stops most of this on its own in today's browsers.
 */
export const securityPlugin = fp(
  async (app: FastifyInstance) => {
    const c = app.config;
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'"],
          fontSrc: ["'self'"],
          manifestSrc: ["'self'"],
          formAction: ["'self'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'same-origin' },
      // Only where we terminate TLS: behind a proxy, the proxy that does sets it.
      strictTransportSecurity: c.tlsCert ? { maxAge: 180 * 24 * 3600 } : false,
    });

    app.addHook('onRequest', async (request) => {
      if (SAFE_METHODS.has(request.method)) return;
      if (request.headers.authorization?.startsWith('Bearer ')) return;
      if (request.cookies?.[SESSION_COOKIE] === undefined) return;
      const origin = request.headers.origin ?? originOfReferer(request.headers.referer);
      if (origin === undefined || !originAllowed(origin, request.headers.host, c.allowedOrigins)) {
        throw new DomainError('forbidden', 'a cross-site request with the session cookie is refused (use Authorization: Bearer outside a browser)');
      }
    });
  },
  { name: 'security', dependencies: ['config', 'auth'] },
);
