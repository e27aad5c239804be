import type { AuthService, AuthUser } from './auth/auth-service.js';
import type { ChatService } from './chat/chat-service.js';
import type { RoomService } from './chat/rooms.js';
import type { Config } from './config.js';
import type { ChatStore } from './storage/store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: ChatStore;
    auth: AuthService;
    chat: ChatService;
    /** Room operations for REST (the chat service's `rooms`). */
    rooms: RoomService;
  }
  interface FastifyRequest {
    /** Set by the `requireUser` pre-handler. */
    user: AuthUser | undefined;
    sessionToken: string | undefined;
  }
}
