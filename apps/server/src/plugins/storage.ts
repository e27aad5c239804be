import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { openPostgresStore } from '../storage/postgres/postgres-store.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../storage/store.js';

/**
 * The chat store: PostgreSQL at DATABASE_URL when it is set (several nodes can
 * share it), else SQLite at DATABASE_PATH — unless one is handed in.
 */
export const storagePlugin = fp(
  async (app: FastifyInstance, options: { store?: ChatStore }) => {
    const { databaseUrl, databaseQueryTimeoutMs, databasePath, dbSynchronous } = app.config;
    const store =
      options.store ??
      (databaseUrl
        ? await openPostgresStore(databaseUrl, {
            queryTimeoutMs: databaseQueryTimeoutMs,
            onError: (err) => app.log.warn({ err }, 'PostgreSQL connection error'),
          })
        : openSqliteStore(databasePath, { synchronous: dbSynchronous }));
    // Closed by app.ts's shutdown hook, after the chat domain has committed what it accepted.
    app.decorate('store', store);
  },
  { name: 'storage', dependencies: ['config'] },
);
