import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../storage/store.js';

/** The chat store: SQLite at DATABASE_PATH unless one is handed in. */
export const storagePlugin = fp(
  async (app: FastifyInstance, options: { store?: ChatStore }) => {
    const store = options.store ?? openSqliteStore(app.config.databasePath, { synchronous: app.config.dbSynchronous });
    // Closed by app.ts's shutdown hook, after the chat domain has committed what it accepted.
    app.decorate('store', store);
  },
  { name: 'storage', dependencies: ['config'] },
);
