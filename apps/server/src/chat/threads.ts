import type { ChatMessage } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import { QUOTE_CHARS, type ChatStore, type ReplyQuote } from '../storage/store.js';
import type { Asker, RoomService } from './rooms.js';
import { toChatMessage } from './wire.js';

/**
 * Replies: the quote a reply carries of the message it answers, and a
 * message's thread (its replies). A thread is one level deep: a reply to a
 * reply starts that reply's own thread, as any message may.
 */
export class Threads {
  constructor(
    private readonly store: ChatStore,
    private readonly rooms: RoomService,
  ) {}

  /** What a reply to `parentId` quotes; not_found unless it is a message of this room that is not deleted. */
  async quote(roomId: string, parentId: number): Promise<ReplyQuote> {
    const parent = await this.store.getMessage(roomId, parentId);
    if (!parent || parent.deletedAt !== null) throw new DomainError('not_found', `no message ${parentId} in ${roomId} to reply to`);
    return { id: parent.id, seq: parent.seq, author: parent.author, text: firstChars(parent.text, QUOTE_CHARS), deleted: false };
  }

  /** The replies to a message of a room the asker may read, oldest first, after `afterSeq`. */
  async replies(asker: Asker, roomId: string, parentId: number, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    await this.rooms.permitted(asker, roomId, 'read');
    const parent = await this.store.getMessage(roomId, parentId);
    if (!parent) throw new DomainError('not_found', `no message ${parentId} in ${roomId}`);
    return (await this.store.repliesTo(roomId, parentId, afterSeq, limit)).map(toChatMessage);
  }
}

/** The first `n` characters (code points, as SQLite's substr and PostgreSQL's left count them). */
function firstChars(text: string, n: number): string {
  return text.length <= n ? text : Array.from(text).slice(0, n).join('');
}
