import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import Fastify, { type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Broker } from './chat/events.js';
import type { PresenceRegistry } from './chat/presence.js';
import type { Config } from './config.js';
import { authPlugin } from './plugins/auth.js';
import { chatPlugin } from './plugins/chat.js';
import { docsPlugin } from './plugins/docs.js';
import { errorsPlugin } from './plugins/errors.js';
import { auditPlugin } from './plugins/audit.js';
import { metricsPlugin } from './plugins/metrics.js';
import { securityPlugin } from './plugins/security.js';
import { realtimePlugin } from './plugins/realtime.js';
import { storagePlugin } from './plugins/storage.js';
import { webPlugin } from './plugins/web.js';
import { accountRoutes } from './routes/account-routes.js';
import { adminRoutes } from './routes/admin-routes.js';
import { conversationRoutes } from './routes/conversation-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { fileRoutes } from './routes/file-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { messageRoutes } from './routes/message-routes.js';
import { roomRoutes } from './routes/room-routes.js';
import { searchRoutes } from './routes/search-routes.js';
import type { ChatStore } from './storage/store.js';
import './types.js';

export interface BuildOptions {
  /** A store to use instead of opening DATABASE_PATH (tests, other databases). */
  store?: ChatStore;
  /** A broker to use instead of the in-process one or REDIS_URL's (several nodes). */
  broker?: Broker;
  /** A presence registry to use instead of the in-process one or REDIS_URL's. */
  presence?: PresenceRegistry;
  /** Fastify options (logger, https, …) merged over the defaults. */
  fastify?: FastifyServerOptions;
}

/** Node's `clientError`: the statuses Fastify's default gives (431, 408, 400), with `{error:{code,message}}`. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy(err);
    return;
  }
  const [status, text, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'too_large', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'invalid_request', 'the request took too long to arrive']
        : [400, 'Bad Request', 'invalid_request', 'the request is malformed or ended early'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The whole application as a Fastify instance, not yet listening: tests call
 * `inject()` on it or `listen()` on port 0; `server.ts` runs it.
 */
export async function buildApp(config: Config, options: BuildOptions = {}) {
  const { logger: loggerOptions, ...fastifyOptions } = options.fastify ?? {};
  // TLS_CERT/TLS_KEY: HTTPS, so browsers use wss:// for /ws.
  const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const app = Fastify({
    // An https.Server has the same request/upgrade API; Fastify's types model it as a separate overload.
    ...((https ? { https } : {}) as object),
    // Close idle keep-alive connections on shutdown instead of waiting for them.
    forceCloseConnections: 'idle',
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    // A request Node cannot parse or that breaks off (a body cut short) is answered, when it can
    // be at all, in the contract's shape like every other error (Fastify's own handler writes another).
    clientErrorHandler: answerClientError,
    ...fastifyOptions,
    logger: {
      level: config.logLevel,
      ...(typeof loggerOptions === 'object' ? loggerOptions : {}),
      // Never log credentials, whatever a future log line includes — kept even
      // when the caller brings its own logger settings (pino-pretty, a stream).
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token'],
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(
    fp(
      async (instance) => {
        instance.decorate('config', config);
      },
      { name: 'config' },
    ),
  );
  await app.register(errorsPlugin);
  await app.register(metricsPlugin);
  await app.register(storagePlugin, options.store ? { store: options.store } : {});
  await app.register(authPlugin);
  await app.register(securityPlugin);
  await app.register(auditPlugin);
  await app.register(chatPlugin, {
    ...(options.broker ? { broker: options.broker } : {}),
    ...(options.presence ? { presence: options.presence } : {}),
  });
  await app.register(realtimePlugin);
  await app.register(docsPlugin);
  await app.register(webPlugin);

  // Shutdown in one place, in dependency order (after preClose has sent 1001
  // to every WebSocket): commit every accepted message, leave the presence
  // registry, stop the broker, close the database.
  app.addHook('onClose', async () => {
    await app.chat.drain();
    await app.presence.close();
    await app.broker.close();
    await app.store.close();
  });

  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(accountRoutes);
  await app.register(roomRoutes);
  await app.register(messageRoutes);
  await app.register(searchRoutes);
  await app.register(fileRoutes);
  await app.register(conversationRoutes);
  await app.register(adminRoutes);
  return app;
}
