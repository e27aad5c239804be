import { randomBytes } from 'node:crypto';
import type { RoomSummary } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import { ConflictError, type ChatStore, type RoomRecord, type UserRecord } from '../storage/store.js';
import { DIRECT_PREFIX, toRoomSummary } from './rooms.js';
import type { Notify } from './user-notices.js';

/** Members of a group conversation, the opener included. */
export const MAX_CONVERSATION_MEMBERS = 10;

/**
 * Direct conversations: rooms of kind `direct`, private, with fixed members
 * and no roles, so they have every guarantee rooms have (ack after commit,
 * idempotent sends, gapless resume, history, edit and delete) by being rooms.
 * The rule module hides them from everyone outside (not_found, as if missing);
 * their ids are random, so an id says nothing about who talks to whom.
 *
 * A 1:1 has a key (the two user ids, sorted), unique in the store: opening it
 * again, from either side, or twice at once, gives the same conversation. A
 * group conversation is new each time it is opened.
 */
export class ConversationService {
  constructor(
    private readonly store: ChatStore,
    private readonly notify: Notify,
  ) {}

  /** The conversation of the user with these others; `created` when it is new (its other members are told). */
  async open(userId: number, usernames: readonly string[]): Promise<{ room: RoomSummary; created: boolean }> {
    const others = await this.others(userId, usernames);
    const ids = [userId, ...others.map((u) => u.id)];
    const directKey = others.length === 1 ? [...ids].sort((a, b) => a - b).join(':') : undefined;
    if (directKey) {
      const existing = await this.store.findDirectRoom(directKey);
      if (existing) return { room: await this.summary(existing, userId), created: false };
    }
    let room: RoomRecord | undefined;
    for (let attempt = 0; room === undefined; attempt++) {
      try {
        room = await this.store.createRoom({
          id: DIRECT_PREFIX + randomBytes(8).toString('hex'),
          kind: 'direct',
          directKey,
          title: '',
          topic: '',
          private: true,
          createdBy: userId,
          members: ids.map((id) => ({ userId: id, role: 'member' as const })),
        });
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 3) throw err;
        // Both opened the same 1:1 at once: the other won, and theirs is ours.
        const raced = directKey && (await this.store.findDirectRoom(directKey));
        if (raced) return { room: await this.summary(raced, userId), created: false };
      }
    }
    const forOthers = await this.summaryForOthers(room);
    await this.notify(
      others.map((u) => u.id),
      { type: 'room_added', room: forOthers },
    );
    return { room: await this.summary(room, userId), created: true };
  }

  /** The named users, checked: they exist, are not the opener, and fit in a conversation. */
  private async others(userId: number, usernames: readonly string[]): Promise<UserRecord[]> {
    const unique = [...new Map(usernames.map((n) => [n.toLowerCase(), n])).values()];
    const found = await Promise.all(unique.map((name) => this.store.findUserByName(name)));
    const missing = unique.filter((_, i) => found[i] === undefined);
    if (missing.length > 0) throw new DomainError('not_found', `no user ${missing.join(', ')}`);
    const others = (found as UserRecord[]).filter((u) => u.id !== userId);
    if (others.length === 0) throw new DomainError('invalid_request', 'a conversation needs someone besides you');
    if (others.length + 1 > MAX_CONVERSATION_MEMBERS) {
      throw new DomainError('invalid_request', `a conversation has at most ${MAX_CONVERSATION_MEMBERS} members`);
    }
    return others;
  }

  private async summary(room: RoomRecord, userId: number): Promise<RoomSummary> {
    const members = await this.store.listMembers(room.id);
    const me = members.find((m) => m.userId === userId);
    const unread = me ? Math.max(0, room.lastSeq - me.readSeq) : 0;
    const names = members.map((m) => m.username);
    return toRoomSummary({ ...room, joined: me !== undefined, unread, mentions: 0, role: me?.role ?? null, memberNames: names }, names);
  }

  /** How the others see a new conversation: joined, nothing unread yet. */
  private async summaryForOthers(room: RoomRecord): Promise<RoomSummary> {
    const members = await this.store.listMembers(room.id);
    const names = members.map((m) => m.username);
    return toRoomSummary({ ...room, joined: true, unread: 0, mentions: 0, role: 'member', memberNames: names }, names);
  }
}
