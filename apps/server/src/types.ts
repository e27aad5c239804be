import type { AuthService, AuthUser } from './auth/auth-service.js';
import type { ChatService } from './chat/chat-service.js';
import type { Config } from './config.js';
import type { ChatStore } from './storage/store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: ChatStore;
    auth: AuthService;
    chat: ChatService;
  }
  interface FastifyRequest {
    /** Set by the `requireUser` pre-handler. */
    user: AuthUser | undefined;
    sessionToken: string | undefined;
  }
}

export {};
