import type { ChatMessage, RoomSummary } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import { ConflictError, type ChatStore, type MessageRecord, type RoomPatch, type RoomRecord, type UserRecord } from '../storage/store.js';
import { ADMIN, BANNED, MEMBER, STRANGER, authorize, type RoomAction, type Standing } from './access.js';
import type { Broker } from './events.js';
import { toChatMessage } from './wire.js';

/** Who asks for a room operation: a signed-in user, or the admin API. */
export type Asker = { readonly userId: number } | 'admin';

export interface NewRoom {
  id: string;
  title: string;
  topic?: string | undefined;
  private?: boolean | undefined;
}

export interface MemberView {
  username: string;
  online: boolean;
  readSeq: number;
}

/**
 * Rooms as the REST API offers them: every operation once, each doing the
 * permission check (access.ts), the write and the broadcast that live
 * connections need as one step. Routes translate HTTP to these calls and
 * nothing else; the WebSocket side asks `visibleRoom` the same question.
 */
export class RoomService {
  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    /** Ids of the users online in a room on any node (the chat service's presence). */
    private readonly onlineUsers: (room: string) => Promise<ReadonlySet<number>>,
  ) {}

  /** The room and the asker's standing in it: the facts every rule is decided on. */
  private async facts(asker: Asker, roomId: string): Promise<{ room: RoomRecord | undefined; who: Standing }> {
    const room = await this.store.getRoom(roomId);
    if (asker === 'admin') return { room, who: ADMIN };
    if (!room) return { room, who: STRANGER };
    const [banned, member] = await Promise.all([this.store.isBanned(roomId, asker.userId), this.store.isMember(roomId, asker.userId)]);
    return { room, who: banned ? BANNED : member ? MEMBER : STRANGER };
  }

  /** The room, if `asker` may do `action` in it; the refusal otherwise. */
  async permitted(asker: Asker, roomId: string, action: RoomAction): Promise<RoomRecord> {
    const { room, who } = await this.facts(asker, roomId);
    authorize(action, who, roomId, room);
    return room!;
  }

  /** A room the user may read (REST history, and `join`/`history` over the socket). */
  visibleRoom(userId: number, roomId: string, action: 'read' | 'join' = 'read'): Promise<RoomRecord> {
    return this.permitted({ userId }, roomId, action);
  }

  /** Public unarchived rooms and the user's own, with unread counts (the store applies the same visibility in its query). */
  async roomsFor(userId: number): Promise<RoomSummary[]> {
    const rooms = await this.store.listRoomsForUser(userId);
    return rooms.map((r) => ({
      id: r.id,
      title: r.title,
      topic: r.topic,
      private: r.private,
      archived: r.archived,
      lastSeq: r.lastSeq,
      joined: r.joined,
      unread: r.unread,
    }));
  }

  /** A user makes a public room and becomes its first member; the admin API makes any room. */
  async create(asker: Asker, room: NewRoom): Promise<RoomRecord> {
    const byUser = asker !== 'admin';
    let created: RoomRecord;
    try {
      created = await this.store.createRoom({
        id: room.id,
        title: room.title,
        topic: room.topic ?? '',
        private: byUser ? false : (room.private ?? false),
        createdBy: byUser ? asker.userId : null,
      });
    } catch (err) {
      if (err instanceof ConflictError) throw new DomainError('conflict', `a room ${room.id} exists`);
      throw err;
    }
    if (byUser) await this.store.addMember(created.id, asker.userId);
    return created;
  }

  async history(asker: Asker, roomId: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
    await this.permitted(asker, roomId, 'read');
    return (await this.store.messagesBefore(roomId, before, limit)).map(toChatMessage);
  }

  // ---- administration ---------------------------------------------------------

  async list(asker: Asker): Promise<RoomRecord[]> {
    if (asker !== 'admin') throw new DomainError('forbidden', 'only an admin may do this');
    return this.store.listRooms();
  }

  get(asker: Asker, roomId: string): Promise<RoomRecord> {
    return this.permitted(asker, roomId, 'administer');
  }

  /** Title, topic, private, archived: stored, then every connection in the room hears of it. */
  async update(asker: Asker, roomId: string, patch: RoomPatch): Promise<RoomRecord> {
    await this.permitted(asker, roomId, 'administer');
    const room = await this.store.updateRoom(roomId, patch);
    if (!room) throw new DomainError('not_found', `no room ${roomId}`);
    await this.broker.publish({
      kind: 'room_updated',
      room: room.id,
      title: room.title,
      topic: room.topic,
      private: room.private,
      archived: room.archived,
    });
    return room;
  }

  /** The room with its messages, members and bans; connections in it are told and leave it. */
  async delete(asker: Asker, roomId: string): Promise<void> {
    await this.permitted(asker, roomId, 'administer');
    if (!(await this.store.deleteRoom(roomId))) throw new DomainError('not_found', `no room ${roomId}`);
    await this.broker.publish({ kind: 'room_deleted', room: roomId });
  }

  async members(asker: Asker, roomId: string): Promise<MemberView[]> {
    await this.permitted(asker, roomId, 'administer');
    const [members, online] = await Promise.all([this.store.listMembers(roomId), this.onlineUsers(roomId)]);
    return members.map((m) => ({ username: m.username, online: online.has(m.userId), readSeq: m.readSeq }));
  }

  /** Anyone's message, as a moderator would: marked deleted (text gone), and every connection hears of it. */
  async deleteMessage(asker: Asker, roomId: string, messageId: number): Promise<MessageRecord> {
    await this.permitted(asker, roomId, 'administer');
    const message = await this.store.deleteMessage(roomId, messageId, Date.now());
    if (!message) throw new DomainError('not_found', `no message ${messageId} in ${roomId}`);
    await this.broker.publish({ kind: 'message_updated', room: roomId, message });
    return message;
  }

  /** Out of the room (they may join again, if it is public); their connections leave it. */
  async kick(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    await this.permitted(asker, roomId, 'administer');
    const user = await this.userNamed(username);
    await this.store.removeMember(roomId, user.id);
    await this.broker.publish({ kind: 'member_removed', room: roomId, userId: user.id, reason: 'kicked' });
    return user;
  }

  /** Banned and out, in one transaction; their connections leave the room. */
  async ban(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    await this.permitted(asker, roomId, 'administer');
    const user = await this.userNamed(username);
    await this.store.banMember(roomId, user.id);
    await this.broker.publish({ kind: 'member_removed', room: roomId, userId: user.id, reason: 'banned' });
    return user;
  }

  async unban(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    await this.permitted(asker, roomId, 'administer');
    const user = await this.userNamed(username);
    if (!(await this.store.removeBan(roomId, user.id))) throw new DomainError('not_found', `${user.username} is not banned from ${roomId}`);
    return user;
  }

  /** A member now (a ban lifted), in one transaction: how a private room gets its members. */
  async addMember(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    await this.permitted(asker, roomId, 'administer');
    const user = await this.userNamed(username);
    await this.store.admitMember(roomId, user.id);
    return user;
  }

  private async userNamed(username: string): Promise<UserRecord> {
    const user = await this.store.findUserByName(username);
    if (!user) throw new DomainError('not_found', `no user ${username}`);
    return user;
  }
}
