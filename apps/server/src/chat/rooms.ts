import type { ChatMessage, RoomSummary } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import {
  ConflictError,
  type ChatStore,
  type MessageRecord,
  type RoomForUser,
  type RoomPatch,
  type RoomRecord,
  type RoomRole,
  type UserRecord,
} from '../storage/store.js';
import { ADMIN, authorize, standingOf, type RoomAction, type Standing } from './access.js';
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
  role: RoomRole;
}

/** Room ids that begin so are the server's, for direct conversations (see conversations.ts). */
export const DIRECT_PREFIX = 'dm-';

/** A room as a user's room list shows it; a direct conversation names its members. */
export function toRoomSummary(r: RoomForUser, members?: string[]): RoomSummary {
  const summary: RoomSummary = {
    id: r.id,
    kind: r.kind,
    title: r.title,
    topic: r.topic,
    private: r.private,
    archived: r.archived,
    lastSeq: r.lastSeq,
    joined: r.joined,
    unread: r.unread,
    mentions: r.mentions,
    role: r.role,
  };
  if (members) summary.members = members;
  return summary;
}

/**
 * Rooms as the REST API offers them: every operation once, each doing the
 * permission check (access.ts), the write and the broadcast that live
 * connections need as one step. Routes translate HTTP to these calls and
 * nothing else; the WebSocket side asks `visibleRoom` and `standing` the same
 * questions.
 */
export class RoomService {
  /** Ids of the users online in a room on any node (the chat service's presence). */
  private readonly onlineUsers: (room: string) => Promise<ReadonlySet<number>>;
  /** Removes the files of deleted attachment rows (Attachments.discard). */
  private readonly discardFiles: (ids: readonly string[]) => Promise<void>;

  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    parts: { onlineUsers: (room: string) => Promise<ReadonlySet<number>>; discardFiles: (ids: readonly string[]) => Promise<void> },
  ) {
    this.onlineUsers = parts.onlineUsers;
    this.discardFiles = parts.discardFiles;
  }

  /** The asker's standing in a room (an admin's is ADMIN wherever). */
  async standing(asker: Asker, roomId: string): Promise<Standing> {
    if (asker === 'admin') return ADMIN;
    const { role, banned } = await this.store.memberStanding(roomId, asker.userId);
    return standingOf(role, banned);
  }

  /** The room, if `asker` may do `action` in it; the refusal otherwise. */
  async permitted(asker: Asker, roomId: string, action: RoomAction, target?: Standing): Promise<RoomRecord> {
    const [room, who] = await Promise.all([this.store.getRoom(roomId), this.standing(asker, roomId)]);
    authorize(action, who, roomId, room, { target });
    return room!;
  }

  /** A room the user may read (REST history, and `join`/`history` over the socket). */
  visibleRoom(userId: number, roomId: string, action: 'read' | 'join' = 'read'): Promise<RoomRecord> {
    return this.permitted({ userId }, roomId, action);
  }

  /** Public unarchived rooms and the user's own (direct conversations with their members' names), with unread counts: one read. */
  async roomsFor(userId: number): Promise<RoomSummary[]> {
    return (await this.store.listRoomsForUser(userId)).map((r) => toRoomSummary(r, r.memberNames ?? undefined));
  }

  /** A user's room is public or private, with them as its owner; the admin API makes rooms with no owner. */
  async create(asker: Asker, room: NewRoom): Promise<RoomRecord> {
    if (room.id.startsWith(DIRECT_PREFIX)) {
      throw new DomainError('invalid_request', `room ids beginning with ${DIRECT_PREFIX} are kept for direct conversations`);
    }
    const byUser = asker !== 'admin';
    try {
      return await this.store.createRoom({
        id: room.id,
        title: room.title,
        topic: room.topic ?? '',
        private: room.private ?? false,
        createdBy: byUser ? asker.userId : null,
        members: byUser ? [{ userId: asker.userId, role: 'owner' }] : [],
      });
    } catch (err) {
      if (err instanceof ConflictError) throw new DomainError('conflict', `a room ${room.id} exists`);
      throw err;
    }
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
    return this.permitted(asker, roomId, asker === 'admin' ? 'administer' : 'read');
  }

  /**
   * Title and topic (moderators), private and archived (the owner): stored,
   * then every connection in the room hears of it. A direct conversation
   * stays private.
   */
  async update(asker: Asker, roomId: string, patch: RoomPatch): Promise<RoomRecord> {
    const owns = patch.private !== undefined || patch.archived !== undefined;
    const current = await this.permitted(asker, roomId, owns ? 'manage' : 'moderate');
    if (current.kind === 'direct' && patch.private === false) {
      throw new DomainError('invalid_request', 'a direct conversation cannot be made public');
    }
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
    await this.permitted(asker, roomId, 'manage');
    // Read before: the rows go with the room. An upload landing in between leaves a file the sweep removes.
    const files = await this.store.roomAttachmentIds(roomId);
    if (!(await this.store.deleteRoom(roomId))) throw new DomainError('not_found', `no room ${roomId}`);
    await this.broker.publish({ kind: 'room_deleted', room: roomId });
    await this.discardFiles(files);
  }

  /** Whoever may read the room sees who is in it, and their roles. */
  async members(asker: Asker, roomId: string): Promise<MemberView[]> {
    await this.permitted(asker, roomId, 'read');
    const [members, online] = await Promise.all([this.store.listMembers(roomId), this.onlineUsers(roomId)]);
    return members.map((m) => ({ username: m.username, online: online.has(m.userId), readSeq: m.readSeq, role: m.role }));
  }

  /** One's own message, or anyone's as a moderator: marked deleted (text gone), and every connection hears of it. */
  async deleteMessage(asker: Asker, roomId: string, messageId: number): Promise<MessageRecord> {
    const [room, who, found] = await Promise.all([
      this.store.getRoom(roomId),
      this.standing(asker, roomId),
      this.store.getMessage(roomId, messageId),
    ]);
    authorize('read', who, roomId, room);
    if (!found || found.deletedAt !== null) throw new DomainError('not_found', `no message ${messageId} in ${roomId}`);
    authorize('delete_message', who, roomId, room, { byAsker: asker !== 'admin' && found.authorId === asker.userId });
    const message = await this.store.deleteMessage(roomId, messageId, Date.now());
    if (!message) throw new DomainError('not_found', `no message ${messageId} in ${roomId}`);
    await this.broker.publish({ kind: 'message_updated', room: roomId, message });
    await this.dropFiles(found);
    return message;
  }

  /** A message just deleted takes its files along (their rows went in its transaction); REST and the socket both call this. */
  dropFiles(deleted: MessageRecord): Promise<void> {
    return this.discardFiles((deleted.attachments ?? []).map((a) => a.id));
  }

  /** Out of the room (they may join again, if it is public); their connections leave it. */
  async kick(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    const { user } = await this.onMember(asker, roomId, username, 'moderate');
    // Kicking someone who is not in the room is no error (as in the admin API before roles): they are out either way.
    await this.store.removeMember(roomId, user.id);
    await this.broker.publish({ kind: 'member_removed', room: roomId, userId: user.id, reason: 'kicked' });
    return user;
  }

  /** Banned and out, in one transaction; their connections leave the room. */
  async ban(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    const { user } = await this.onMember(asker, roomId, username, 'moderate');
    await this.store.banMember(roomId, user.id);
    await this.broker.publish({ kind: 'member_removed', room: roomId, userId: user.id, reason: 'banned' });
    return user;
  }

  async unban(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    await this.permitted(asker, roomId, 'moderate');
    const user = await this.userNamed(username);
    if (!(await this.store.removeBan(roomId, user.id))) throw new DomainError('not_found', `${user.username} is not banned from ${roomId}`);
    return user;
  }

  /** A member now (a ban lifted), in one transaction: the admin API's way into a private room (users invite). */
  async addMember(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    await this.permitted(asker, roomId, 'administer');
    const user = await this.userNamed(username);
    await this.store.admitMember(roomId, user.id);
    return user;
  }

  /** The owner makes a member a moderator or a moderator a member; ownership moves only by `transfer`. */
  async setRole(asker: Asker, roomId: string, username: string, role: 'moderator' | 'member'): Promise<UserRecord> {
    const { user, target } = await this.onMember(asker, roomId, username, 'manage');
    if (target.role === 'owner') throw new DomainError('forbidden', 'the owner keeps that role until they transfer ownership');
    if (!(await this.store.setMemberRole(roomId, user.id, role))) throw new DomainError('not_found', `${user.username} is not in ${roomId}`);
    await this.broker.publish({ kind: 'role_changed', room: roomId, userId: user.id, user: user.username, role });
    return user;
  }

  /** The owner hands the room to a member and stays on as a moderator, in one transaction. */
  async transfer(asker: Asker, roomId: string, username: string): Promise<UserRecord> {
    if (asker === 'admin') throw new DomainError('invalid_request', 'ownership is transferred by its owner');
    const { user } = await this.onMember(asker, roomId, username, 'manage');
    if (user.id === asker.userId) throw new DomainError('invalid_request', 'you own this room already');
    const me = await this.store.memberStanding(roomId, asker.userId);
    if (!(await this.store.transferOwnership(roomId, asker.userId, user.id))) {
      throw new DomainError('conflict', me.role === 'owner' ? `${user.username} is not a member of ${roomId}` : 'you are not the owner');
    }
    const meName = (await this.store.listMembers(roomId)).find((m) => m.userId === asker.userId)?.username;
    await this.broker.publish({ kind: 'role_changed', room: roomId, userId: user.id, user: user.username, role: 'owner' });
    if (meName) await this.broker.publish({ kind: 'role_changed', room: roomId, userId: asker.userId, user: meName, role: 'moderator' });
    return user;
  }

  /** The user named, who must be in the room, and whether the asker may do `action` to them. */
  private async onMember(asker: Asker, roomId: string, username: string, action: RoomAction): Promise<{ user: UserRecord; target: Standing }> {
    const user = await this.userNamed(username);
    const [room, who, target] = await Promise.all([
      this.store.getRoom(roomId),
      this.standing(asker, roomId),
      this.standing({ userId: user.id }, roomId),
    ]);
    authorize(action, who, roomId, room, { target });
    return { user, target };
  }

  async userNamed(username: string): Promise<UserRecord> {
    const user = await this.store.findUserByName(username);
    if (!user) throw new DomainError('not_found', `no user ${username}`);
    return user;
  }
}
