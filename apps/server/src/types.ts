import type { AuthService, AuthUser } from './auth/auth-service.js';
import type { SessionCloser, UserAdministration } from './auth/user-admin.js';
import type { ChatService } from './chat/chat-service.js';
import type { ConversationService } from './chat/conversations.js';
import type { InvitationService } from './chat/invitations.js';
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
    /** Direct conversations (the chat service's `conversations`). */
    conversations: ConversationService;
    /** Invitations into rooms (the chat service's `invitations`). */
    invitations: InvitationService;
    /** The admin's user management. */
    users: UserAdministration;
    /** Ends sessions' and users' sockets on every node. */
    sessionCloser: SessionCloser;
  }
  interface FastifyRequest {
    /** Set by the `requireUser` pre-handler. */
    user: AuthUser | undefined;
    sessionToken: string | undefined;
  }
}
