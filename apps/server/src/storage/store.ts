/**
 * What the chat domain needs from storage. SQLite implements it (the embedded
 * default); a networked database can implement the same contract, which is
 * why every method may return a promise.
 */
export type Awaitable<T> = T | Promise<T>;

/** One admin or moderator action, as the audit log keeps it. */
export interface AuditEntry {
  id: number;
  at: number;
  /** Who: a username, or `ADMIN_TOKEN`. */
  actor: string;
  action: string;
  /** Whom or what it was done to (a username, a message id), if anyone. */
  target: string | null;
  room: string | null;
  /** The client's address (behind a proxy, as TRUST_PROXY lets it be read). */
  ip: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  /** Paging: entries with a smaller id (older). */
  before?: number | undefined;
  limit: number;
  action?: string | undefined;
  actor?: string | undefined;
  room?: string | undefined;
}

export interface UserFilter {
  /** Part of the username, any case. */
  query?: string | undefined;
  /** Only guests (true) or only accounts (false). */
  guests?: boolean | undefined;
  /** Paging: names after this one. */
  after?: string | undefined;
  limit: number;
}

export interface SessionRecord {
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
}

/** An instance role: admins run the whole server (the admin API and console). */
export type InstanceRole = 'admin' | 'user';

/** What `setUserRole` did. */
export type UserRoleChange = 'changed' | 'unchanged' | 'no_user' | 'last_admin';

export interface UserRecord {
  id: number;
  username: string;
  guest: boolean;
  role: InstanceRole;
  /** Its last sign-in or WebSocket connection (epoch ms). */
  lastSeenAt: number | null;
  /** Deactivated by an admin: no session works, no sign-in. */
  deactivatedAt: number | null;
  passwordHash: string | null;
  createdAt: number;
}

/** A member's role in a room: owners and moderators moderate, owners also manage roles. */
export type RoomRole = 'owner' | 'moderator' | 'member';

/** `room`: a room with a title, public or private; `direct`: a conversation between named users. */
export type RoomKind = 'room' | 'direct';

export interface RoomRecord {
  id: string;
  kind: RoomKind;
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
  /** Messages after the read cursor that mention the user (by name or `@room`). */
  mentions: number;
  /** The user's role, when a member. */
  role: RoomRole | null;
  /** A direct conversation's members' names (by name); null for a room. */
  memberNames: string[] | null;
}

export interface MemberRecord {
  userId: number;
  username: string;
  readSeq: number;
  role: RoomRole;
}

/** What decides a user's rights in a room (see chat/access.ts). */
export interface MemberStanding {
  role: RoomRole | null;
  banned: boolean;
}

export interface NewRoomRecord {
  id: string;
  title: string;
  topic: string;
  private: boolean;
  createdBy: number | null;
  kind?: RoomKind | undefined;
  /** A direct conversation's members, sorted ids joined by ':', unique: the same 1:1 is never made twice. */
  directKey?: string | undefined;
  /** Members made with the room, in the same transaction. */
  members?: ReadonlyArray<{ userId: number; role: RoomRole }> | undefined;
}

export type InvitationState = 'pending' | 'accepted' | 'declined' | 'revoked';

/** An invitation into a room: for one user, or a link (a token) with an expiry and a use count. */
export interface InvitationRecord {
  id: number;
  roomId: string;
  roomTitle: string;
  /** Who invited (a username), null once that account is gone. */
  invitedBy: string | null;
  invitedById: number | null;
  /** The invited user; null for a link. */
  userId: number | null;
  username: string | null;
  /** Epoch ms, null: never expires. */
  expiresAt: number | null;
  /** A link's remaining uses; null for a user's invitation. */
  usesLeft: number | null;
  state: InvitationState;
  createdAt: number;
}

export interface NewInvitation {
  roomId: string;
  invitedBy: number;
  /** Exactly one of the two: a user's invitation, or a link's hashed token. */
  userId?: number | undefined;
  tokenHash?: string | undefined;
  expiresAt: number | null;
  uses?: number | undefined;
}

/** The message a reply answers, as the reply shows it quoted. */
export interface ReplyQuote {
  id: number;
  seq: number;
  author: string;
  /** At most QUOTE_CHARS characters of its text ('' once deleted). */
  text: string;
  deleted: boolean;
}

/** The longest quote of a parent message a reply carries. */
export const QUOTE_CHARS = 200;

/** One emoji on a message and who put it there, first reaction first. */
export interface ReactionRecord {
  emoji: string;
  users: string[];
}

/** A file as a message carries it: enough to show and fetch it. */
export interface AttachmentInfo {
  /** Random, unguessable (see chat/attachments.ts); also the key of its bytes in the file store. */
  id: string;
  name: string;
  size: number;
  /** What sniffing the bytes found (never the client's claim); application/octet-stream when nothing. */
  contentType: string;
  /** Images only. */
  width: number | null;
  height: number | null;
  /** Whether a thumbnail was made (images only). */
  thumbnail: boolean;
}

/** An upload, attached to a message or not yet. */
export interface AttachmentRecord extends AttachmentInfo {
  roomId: string;
  uploaderId: number;
  /** The message it belongs to; null until a send carries it. */
  messageId: number | null;
  createdAt: number;
}

/** What `createAttachment` did: stored, or refused (nothing written). */
export type AttachmentCreation = 'stored' | 'over_quota' | 'room_gone';

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
  /** The message this one replies to (same room). */
  replyTo: ReplyQuote | null;
  /** Replies to this message that are not deleted. */
  replies: number;
  reactions: ReactionRecord[];
  pinnedAt: number | null;
  /** Its files, in the order the send named them; absent (undefined) for none. */
  attachments?: AttachmentInfo[] | undefined;
}

export interface NewMessage {
  roomId: string;
  authorId: number;
  text: string;
  clientMsgId: string;
  ts: number;
  /** The message it replies to, read by the domain from this room (the store keeps its id). */
  replyTo?: ReplyQuote | undefined;
  /** Members it mentions (ids), stored with its seq in the same transaction: their mention counts. */
  mentions?: readonly number[] | undefined;
  /**
   * Uploads of its author in this room, not yet attached, read and checked by
   * the domain; the store attaches them in the message's own transaction.
   */
  attachments?: AttachmentInfo[] | undefined;
}

/** What adding or removing a reaction did; `count` is the emoji's count on the message afterwards. */
export type ReactionChange =
  | { status: 'changed' | 'unchanged'; count: number }
  /** No such message in the room, or it is deleted. */
  | { status: 'no_message' }
  /** The message has `maxDistinct` different emoji already. */
  | { status: 'too_many' };

/**
 * What a searchable word is, for the domain's queries and both stores' indexes
 * alike, so that SQLite and PostgreSQL find the same messages: compatibility
 * decomposition (NFKD: ligatures, full-width forms, "é" as e + accent), marks
 * removed (diacritics: "café" is "cafe"), lower case (with "ß" as "ss"), then the runs of letters
 * and digits of any script. Punctuation and spaces separate words, so
 * "deploy-ment" is two. Scripts written without spaces (Chinese, Japanese)
 * give one word per run of characters, found by its beginning (prefix).
 */
export function searchWords(text: string): string[] {
  // Two of Unicode's full case foldings that lower case leaves: ß is ss, final ς is σ.
  const folded = text.normalize('NFKD').replace(MARKS, '').toLowerCase().replace(SS, 'ss').replace(FINAL_SIGMA, 'σ');
  const words = folded.match(WORD);
  if (!words) return [];
  // A word longer than this is cut: PostgreSQL refuses lexemes past 2 KiB.
  for (let i = 0; i < words.length; i++) if (words[i]!.length > MAX_WORD_CHARS) words[i] = words[i]!.slice(0, MAX_WORD_CHARS);
  return words;
}
const MARKS = /\p{M}+/gu;
const SS = /ß/g;
const FINAL_SIGMA = /ς/g;
const WORD = /[\p{L}\p{N}]+/gu;
export const MAX_WORD_CHARS = 256;

/**
 * One part of a search, every part of which a message must match: a word
 * (`prefix`: also any word beginning with it), or a phrase (its words one
 * after another, each whole). Words are `searchWords` output.
 */
export interface SearchTerm {
  words: string[];
  prefix: boolean;
}

export interface SearchFilter {
  terms: SearchTerm[];
  /** The rooms searched: every room the user is a member of (direct conversations included), or one room the domain has let them read. */
  scope: { userId: number } | { roomId: string };
  /** Paging: messages with a smaller id (older). */
  before?: number | undefined;
  limit: number;
}

/**
 * The outcome of one message in a batch: stored now, stored before (same
 * clientMsgId), or refused: its room is gone, or a file it names is on
 * another message already (two sends of one upload raced, through two nodes
 * or past the domain's check) — nothing of it is written then.
 */
export type AppendResult =
  | { status: 'stored'; message: MessageRecord }
  | { status: 'duplicate'; message: MessageRecord }
  | { status: 'room_gone' }
  | { status: 'files_taken' };

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
  /**
   * Makes a user an admin or a user, in one transaction; `last_admin` (nothing
   * written) when that would leave the instance without an admin. Guests are
   * never admins (`no_user`).
   */
  setUserRole(username: string, role: InstanceRole): Awaitable<UserRoleChange>;
  /** The admins' names, alphabetically. */
  listAdmins(): Awaitable<string[]>;

  createSession(tokenHash: string, userId: number, expiresAt: number): Awaitable<void>;
  findSessionUser(tokenHash: string, now: number): Awaitable<UserRecord | undefined>;
  deleteSession(tokenHash: string): Awaitable<void>;
  /** A user's unexpired sessions, newest first. */
  listSessions(userId: number, now: number): Awaitable<SessionRecord[]>;
  /** Ends every session of the user but `keep` (a token hash); the hashes ended. */
  deleteSessionsOf(userId: number, keep?: string): Awaitable<string[]>;
  setPasswordHash(userId: number, passwordHash: string): Awaitable<void>;
  /** Notes that the user was just seen (a sign-in, a connection). */
  touchUser(userId: number, at: number): Awaitable<void>;
  /** Deactivates (at `at`) or reactivates an account; false when there is none. */
  setDeactivated(userId: number, at: number | null): Awaitable<boolean>;
  /** Accounts by name, alphabetically: those whose name contains `query`, after the name `after`, at most `limit`. */
  listUsers(filter: UserFilter): Awaitable<UserRecord[]>;
  /**
   * Deletes an account, in one transaction: its name becomes `deleted-<id>`
   * (free for someone else), its password, sessions, memberships, bans,
   * pending invitations, reactions and mentions go; its messages stay,
   * shown under the new name. False when there is no such account.
   */
  deleteUser(userId: number, at: number): Awaitable<boolean>;
  /** Guests not seen (nor made) since `before`: whom a purge deletes. */
  inactiveGuests(before: number): Awaitable<number[]>;

  appendAudit(entry: Omit<AuditEntry, 'id'>): Awaitable<void>;
  /** Newest first. */
  listAudit(filter: AuditFilter): Awaitable<AuditEntry[]>;

  /** The room and its first members, in one transaction; ConflictError when the id or the direct key is taken. */
  createRoom(room: NewRoomRecord): Awaitable<RoomRecord>;
  getRoom(id: string): Awaitable<RoomRecord | undefined>;
  /** The direct conversation with this key (see `NewRoomRecord.directKey`). */
  findDirectRoom(directKey: string): Awaitable<RoomRecord | undefined>;
  listRooms(): Awaitable<RoomRecord[]>;
  /** Public, unarchived rooms and every room the user belongs to, with unread counts. */
  listRoomsForUser(userId: number): Awaitable<RoomForUser[]>;
  updateRoom(id: string, patch: RoomPatch): Awaitable<RoomRecord | undefined>;
  deleteRoom(id: string): Awaitable<boolean>;

  addMember(roomId: string, userId: number): Awaitable<void>;
  removeMember(roomId: string, userId: number): Awaitable<boolean>;
  isMember(roomId: string, userId: number): Awaitable<boolean>;
  listMembers(roomId: string): Awaitable<MemberRecord[]>;
  /** The user's role (null: not a member) and whether they are banned, in one read. */
  memberStanding(roomId: string, userId: number): Awaitable<MemberStanding>;
  /** Sets a member's role; false when they are not a member. */
  setMemberRole(roomId: string, userId: number, role: RoomRole): Awaitable<boolean>;
  /**
   * The owner becomes a moderator and the member the owner, in one
   * transaction; false (nothing written) unless `fromUserId` is the owner and
   * `toUserId` a member.
   */
  transferOwnership(roomId: string, fromUserId: number, toUserId: number): Awaitable<boolean>;
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

  /**
   * A user's invitation (a pending one for the same user and room is
   * returned as it is: inviting twice is one invitation), or a link.
   */
  createInvitation(invitation: NewInvitation): Awaitable<InvitationRecord>;
  getInvitation(id: number): Awaitable<InvitationRecord | undefined>;
  findInvitationByToken(tokenHash: string): Awaitable<InvitationRecord | undefined>;
  /** A user's pending, unexpired invitations, newest first. */
  pendingInvitationsFor(userId: number, now: number): Awaitable<InvitationRecord[]>;
  /** A room's pending, unexpired invitations and links, newest first. */
  roomInvitations(roomId: string, now: number): Awaitable<InvitationRecord[]>;
  /**
   * Accepts (the user becomes a member, in the same transaction) or declines
   * the user's pending, unexpired invitation; false when there is none.
   */
  answerInvitation(id: number, userId: number, answer: 'accepted' | 'declined', now: number): Awaitable<boolean>;
  /**
   * Uses a pending, unexpired link with uses left: one use fewer and the user
   * a member, in one transaction. The room's id, or undefined when the link
   * is spent, expired, revoked or unknown.
   */
  redeemInvitationLink(tokenHash: string, userId: number, now: number): Awaitable<string | undefined>;
  /** Pending → revoked; false when it was not pending. */
  revokeInvitation(id: number): Awaitable<boolean>;

  /** Stores a batch in one transaction; each message gets the next `seq` of its room. */
  appendMessages(batch: NewMessage[]): Awaitable<AppendResult[]>;
  getMessage(roomId: string, id: number): Awaitable<MessageRecord | undefined>;
  /** Messages with seq > since, oldest first, at most `limit`. */
  messagesAfter(roomId: string, since: number, limit: number): Awaitable<MessageRecord[]>;
  /** Messages with seq < before (or the newest), newest first, at most `limit`. */
  messagesBefore(roomId: string, before: number | undefined, limit: number): Awaitable<MessageRecord[]>;
  editMessage(roomId: string, id: number, text: string, at: number): Awaitable<MessageRecord | undefined>;
  /** Marks it deleted: text, reactions, pin, mentions and attachment rows go; its place (seq) and its replies stay. */
  deleteMessage(roomId: string, id: number, at: number): Awaitable<MessageRecord | undefined>;
  /** Replies to a message, oldest first, with seq > afterSeq, at most `limit`. */
  repliesTo(roomId: string, parentId: number, afterSeq: number, limit: number): Awaitable<MessageRecord[]>;
  /**
   * Adds the user's reaction (once per user and emoji: again is `unchanged`),
   * unless the message already carries `maxDistinct` other emoji; one transaction.
   */
  addReaction(roomId: string, messageId: number, userId: number, emoji: string, maxDistinct: number, at: number): Awaitable<ReactionChange>;
  removeReaction(roomId: string, messageId: number, userId: number, emoji: string): Awaitable<ReactionChange>;
  /** Pins (at `at`) or unpins a message that is not deleted; undefined when there is none. */
  setPinned(roomId: string, id: number, pinnedAt: number | null): Awaitable<MessageRecord | undefined>;
  /** The room's pinned messages, the latest pin first. */
  pinnedMessages(roomId: string): Awaitable<MessageRecord[]>;
  /** Messages that match every term, not deleted, in the filter's rooms, newest (largest id) first. */
  searchMessages(filter: SearchFilter): Awaitable<MessageRecord[]>;
  /** The room's members among these usernames (any case): whom a message's mentions reach. */
  membersNamed(roomId: string, usernames: readonly string[]): Awaitable<Array<{ userId: number; username: string }>>;

  /**
   * Records an upload (its bytes are already in the file store), in one
   * transaction with the check that the uploader's uploads, this one
   * included, stay within `maxUserBytes`: `over_quota` otherwise, and
   * `room_gone` when the room no longer exists; nothing written either way.
   */
  createAttachment(record: AttachmentRecord, maxUserBytes: number): Awaitable<AttachmentCreation>;
  getAttachment(id: string): Awaitable<AttachmentRecord | undefined>;
  /** The bytes of every upload of the user that is still recorded (attached or not). */
  uploadedBytes(userId: number): Awaitable<number>;
  /** Deletes the uploads made before `before` that no message carries; their ids. */
  deleteUnattachedAttachments(before: number): Awaitable<string[]>;
  /** The ids of a room's uploads (its files, to delete with it). */
  roomAttachmentIds(roomId: string): Awaitable<string[]>;
  /** Those of `ids` that are recorded (the rest are files no row owns). */
  knownAttachmentIds(ids: readonly string[]): Awaitable<string[]>;

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
