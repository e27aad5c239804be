import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/** OpenAPI generated from the routes' zod schemas: the UI at /docs, the document at /docs/json. */
export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Chat server API',
          description: 'HTTP API of the chat server. The WebSocket protocol at GET /ws is described in docs/protocol.md.',
          version: '1',
        },
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'session' },
            bearer: { type: 'http', scheme: 'bearer' },
          },
        },
      },
      transform: jsonSchemaTransform,
    });
    // Its page has inline script: it sends its own CSP, with the hashes of that script, over ours.
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      // Not upgrade-insecure-requests: on plain HTTP the browser would ask for the UI's files over https,
      // which a server without TLS does not speak. Inline styles: the UI sets some (styles only; scripts stay hashed).
      transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, '').replace(/style-src ([^;]*);/, "style-src $1 'unsafe-inline';"),
    });
  },
  { name: 'docs' },
);
