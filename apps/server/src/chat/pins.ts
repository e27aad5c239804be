import type { ChatMessage } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import type { ChatStore, MessageRecord } from '../storage/store.js';
import type { Broker, ReplyTo } from './events.js';
import type { Asker, RoomService } from './rooms.js';
import { toChatMessage } from './wire.js';

/** Pinned messages one room may have. */
export const MAX_PINS = 50;

/**
 * Pinned messages: owners and moderators pin and unpin (anyone in a direct
 * conversation: access.ts); a change reaches the room as `message_updated`
 * with `pinned`. Pinning what is pinned, or unpinning what is not, changes
 * nothing and tells no one.
 */
export class Pins {
  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    private readonly rooms: RoomService,
  ) {}

  async set(asker: Asker, roomId: string, messageId: number, pinned: boolean, replyTo?: ReplyTo): Promise<{ message: MessageRecord; changed: boolean }> {
    await this.rooms.permitted(asker, roomId, 'pin');
    const current = await this.store.getMessage(roomId, messageId);
    if (!current || current.deletedAt !== null) throw new DomainError('not_found', `no message ${messageId} in ${roomId}`);
    if ((current.pinnedAt !== null) === pinned) return { message: current, changed: false };
    if (pinned && (await this.store.pinnedMessages(roomId)).length >= MAX_PINS) {
      throw new DomainError('invalid_request', `a room has at most ${MAX_PINS} pinned messages: unpin one first`);
    }
    const message = await this.store.setPinned(roomId, messageId, pinned ? Date.now() : null);
    if (!message) throw new DomainError('not_found', `no message ${messageId} in ${roomId}`);
    await this.broker.publish({ kind: 'message_updated', room: roomId, message, ...(replyTo === undefined ? {} : { replyTo }) });
    return { message, changed: true };
  }

  async list(asker: Asker, roomId: string): Promise<ChatMessage[]> {
    await this.rooms.permitted(asker, roomId, 'read');
    return (await this.store.pinnedMessages(roomId)).map(toChatMessage);
  }
}
