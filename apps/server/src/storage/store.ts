/**
 * What the chat domain needs from storage. SQLite implements it (the embedded
 * default); a networked database can implement the same contract, which is
 * why every method may return a promise.
 */
export type Awaitable<T> = T | Promise<T>;

export interface UserRecord {
  id: number;
  username: string;
  guest: boolean;
  passwordHash: string | null;
  createdAt: number;
}

export interface RoomRecord {
  id: string;
  title: string;
  topic: string;
  private: boolean;
  archived: boolean;
  lastSeq: number;
  createdAt: number;
  createdBy: string | null;
}

export interface RoomForUser extends RoomRecord {
  joined: boolean;
  unread: number;
}

export interface MemberRecord {
  userId: number;
  username: string;
  readSeq: number;
}

export interface MessageRecord {
  id: number;
  roomId: string;
  seq: number;
  authorId: number;
  author: string;
  text: string;
  clientMsgId: string;
  ts: number;
  editedAt: number | null;
  deletedAt: number | null;
}

export interface NewMessage {
  roomId: string;
  authorId: number;
  text: string;
  clientMsgId: string;
  ts: number;
}

/** The outcome of one message in a batch: stored now, stored before (same clientMsgId), or refused. */
export type AppendResult =
  | { status: 'stored'; message: MessageRecord }
  | { status: 'duplicate'; message: MessageRecord }
  | { status: 'room_gone' };

export interface RoomPatch {
  title?: string | undefined;
  topic?: string | undefined;
  private?: boolean | undefined;
  archived?: boolean | undefined;
}

/** A unique key was taken (username, room id). */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

export interface ChatStore {
  createUser(username: string, passwordHash: string | null, guest: boolean): Awaitable<UserRecord>;
  findUserByName(username: string): Awaitable<UserRecord | undefined>;

  createSession(tokenHash: string, userId: number, expiresAt: number): Awaitable<void>;
  findSessionUser(tokenHash: string, now: number): Awaitable<UserRecord | undefined>;
  deleteSession(tokenHash: string): Awaitable<void>;

  createRoom(room: { id: string; title: string; topic: string; private: boolean; createdBy: number | null }): Awaitable<RoomRecord>;
  getRoom(id: string): Awaitable<RoomRecord | undefined>;
  listRooms(): Awaitable<RoomRecord[]>;
  /** Public, unarchived rooms and every room the user belongs to, with unread counts. */
  listRoomsForUser(userId: number): Awaitable<RoomForUser[]>;
  updateRoom(id: string, patch: RoomPatch): Awaitable<RoomRecord | undefined>;
  deleteRoom(id: string): Awaitable<boolean>;

  addMember(roomId: string, userId: number): Awaitable<void>;
  removeMember(roomId: string, userId: number): Awaitable<boolean>;
  isMember(roomId: string, userId: number): Awaitable<boolean>;
  listMembers(roomId: string): Awaitable<MemberRecord[]>;
  setReadCursor(roomId: string, userId: number, seq: number): Awaitable<number>;
  addBan(roomId: string, userId: number): Awaitable<void>;
  removeBan(roomId: string, userId: number): Awaitable<boolean>;
  isBanned(roomId: string, userId: number): Awaitable<boolean>;
  /**
   * Bans the user from the room and ends their membership, in one
   * transaction: no one ever sees them banned yet still a member, nor a
   * failure leave one half done. Banning someone already banned is no error.
   * Returns whether they were a member.
   *
   * A room that does not exist (deleted meanwhile) bans no one: false, and
   * nothing written. Its memberships and bans went with it (ON DELETE
   * CASCADE), and a ban naming it would break its foreign key. A room deleted
   * after this call takes the ban with it the same way. The user must exist
   * (users are never deleted): an unknown id fails as a foreign-key error.
   */
  banMember(roomId: string, userId: number): Awaitable<boolean>;
  /**
   * Lifts any ban of the user from the room and makes them a member, in one
   * transaction. Admitting a member keeps their membership as it is (read
   * cursor included). A room that does not exist admits no one and writes
   * nothing, as in `banMember`.
   */
  admitMember(roomId: string, userId: number): Awaitable<void>;

  /** Stores a batch in one transaction; each message gets the next `seq` of its room. */
  appendMessages(batch: NewMessage[]): Awaitable<AppendResult[]>;
  getMessage(roomId: string, id: number): Awaitable<MessageRecord | undefined>;
  /** Messages with seq > since, oldest first, at most `limit`. */
  messagesAfter(roomId: string, since: number, limit: number): Awaitable<MessageRecord[]>;
  /** Messages with seq < before (or the newest), newest first, at most `limit`. */
  messagesBefore(roomId: string, before: number | undefined, limit: number): Awaitable<MessageRecord[]>;
  editMessage(roomId: string, id: number, text: string, at: number): Awaitable<MessageRecord | undefined>;
  deleteMessage(roomId: string, id: number, at: number): Awaitable<MessageRecord | undefined>;

  /**
   * True when batches passed to `appendMessages` before the previous call
   * resolved are still committed in call order (one writer, one queue): the
   * message writer may then hand over the next batch early.
   */
  readonly appendsInOrder?: boolean;

  /** Whether the database answers (for /healthz). */
  ping(): Awaitable<boolean>;
  close(): Awaitable<void>;
}
