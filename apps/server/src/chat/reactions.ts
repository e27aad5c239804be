import { DomainError } from '../domain-error.js';
import type { ChatStore, ReactionChange } from '../storage/store.js';
import { MEMBER, authorize } from './access.js';
import type { Broker, ReplyTo } from './events.js';
import type { PeerState, Ref } from './peer-state.js';
import type { RoomService } from './rooms.js';
import type { SendGate } from './send-gate.js';

/** Different emoji one message may carry; one more of an emoji already there is always fine. */
export const MAX_DISTINCT_REACTIONS = 20;

export interface ReactionResult {
  emoji: string;
  count: number;
  /** Whether the asker's reaction is on the message now. */
  mine: boolean;
}

/**
 * Reactions: one per user and emoji (adding twice, or removing what is not
 * there, changes nothing and is no error), on a message that is not deleted,
 * asked as a send is (a member, the room not archived) and counted against
 * the same rate. A change reaches everyone in the room as a `reaction` event
 * through the broker; an unchanged one only the asker.
 */
export class Reactions {
  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    private readonly rooms: RoomService,
    private readonly gate: SendGate,
  ) {}

  /** `react` / `unreact` over the socket: the connection has joined the room. */
  async react(state: PeerState, roomId: string, messageId: number, emoji: string, add: boolean, ref: Ref): Promise<void> {
    authorize('send', MEMBER, roomId, state.joined(roomId));
    this.gate.take(state);
    const { id, username } = state.peer.user;
    const replyTo = ref === undefined ? undefined : { connectionId: state.peer.connectionId, ref };
    const result = await this.apply(id, username, roomId, messageId, emoji, add, replyTo);
    if (!result.changed) {
      const reply = { type: 'reaction' as const, room: roomId, id: messageId, emoji, user: username, added: add, count: result.count };
      state.reply(ref === undefined ? reply : { ...reply, ref });
    }
  }

  /** The same over REST: the room's rules read from the database. */
  async set(user: { id: number; username: string }, roomId: string, messageId: number, emoji: string, add: boolean): Promise<ReactionResult> {
    await this.rooms.permitted({ userId: user.id }, roomId, 'send');
    this.gate.takeUser(user.id);
    const { count } = await this.apply(user.id, user.username, roomId, messageId, emoji, add, undefined);
    return { emoji, count, mine: add };
  }

  private async apply(
    userId: number,
    username: string,
    roomId: string,
    messageId: number,
    emoji: string,
    add: boolean,
    replyTo: ReplyTo | undefined,
  ): Promise<{ changed: boolean; count: number }> {
    const change: ReactionChange = add
      ? await this.store.addReaction(roomId, messageId, userId, emoji, MAX_DISTINCT_REACTIONS, Date.now())
      : await this.store.removeReaction(roomId, messageId, userId, emoji);
    if (change.status === 'no_message') throw new DomainError('not_found', `no message ${messageId} in ${roomId}`);
    if (change.status === 'too_many') {
      throw new DomainError('invalid_request', `a message carries at most ${MAX_DISTINCT_REACTIONS} different reactions`);
    }
    if (change.status === 'unchanged') return { changed: false, count: change.count };
    await this.broker.publish({
      kind: 'reaction',
      room: roomId,
      messageId,
      emoji,
      user: username,
      added: add,
      count: change.count,
      ...(replyTo === undefined ? {} : { replyTo }),
    });
    return { changed: true, count: change.count };
  }
}
