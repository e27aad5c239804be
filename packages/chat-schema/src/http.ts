import { z } from 'zod';
import { Attachment, AttachmentId, ChatMessage, Emoji, ErrorCode, Member, RoomId, RoomKind, RoomRole, Seq, Username } from './common.js';

export const Credentials = z.object({ username: Username, password: z.string().min(8).max(256) });
export const GuestRequest = z.object({ username: Username });

export const User = z.object({
  id: z.number().int(),
  username: z.string(),
  guest: z.boolean(),
  /** An instance admin (absent from servers before instance roles). */
  admin: z.boolean().optional(),
});
export type User = z.infer<typeof User>;
export const AuthResponse = z.object({ user: User, token: z.string() });
export type AuthResponse = z.infer<typeof AuthResponse>;

const RoomFields = z.object({
  id: z.string(),
  kind: RoomKind,
  title: z.string(),
  topic: z.string(),
  private: z.boolean(),
  archived: z.boolean(),
  lastSeq: Seq,
});

/** A room as a signed-in user sees it in `GET /api/rooms`. */
export const RoomSummary = RoomFields.extend({
  joined: z.boolean(),
  /** Messages after the caller's read cursor (0 when not joined). */
  unread: z.number().int().nonnegative(),
  /** Of those, the ones that mention the caller (by name or `@room`). */
  mentions: z.number().int().nonnegative(),
  /** The caller's role, when joined. */
  role: RoomRole.nullable(),
  /** A direct conversation's members (it has no title of its own). */
  members: z.array(z.string()).optional(),
});
export type RoomSummary = z.infer<typeof RoomSummary>;

/** A room as the admin API and room creation return it. */
export const Room = RoomFields.extend({
  createdAt: z.number().int(),
  createdBy: z.string().nullable(),
});
export type Room = z.infer<typeof Room>;

export const CreateRoomRequest = z.object({
  id: RoomId,
  title: z.string().trim().min(1).max(100),
  topic: z.string().max(500).optional(),
  /** A private room is seen and entered by invitation only. */
  private: z.boolean().optional(),
});
export const AdminCreateRoomRequest = CreateRoomRequest;
export const UpdateRoomRequest = z
  .object({
    title: z.string().trim().min(1).max(100),
    topic: z.string().max(500),
    private: z.boolean(),
    archived: z.boolean(),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');
export const UsernameBody = z.object({ username: Username });

export const HistoryQuery = z.object({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const HistoryResponse = z.object({ messages: z.array(ChatMessage) });
export const MembersResponse = z.object({ members: z.array(Member.extend({ readSeq: Seq })) });

export const RepliesQuery = z.object({
  after: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const MessageResponse = z.object({ message: ChatMessage });
/** `POST /api/rooms/{id}/files` (201): the upload, to name in a `send`'s `attachments`. */
export const UploadResponse = Attachment;
export const FileParams = z.object({ id: RoomId, fileId: AttachmentId });
export const MessagesResponse = z.object({ messages: z.array(ChatMessage) });
export const ReactionParams = z.object({ id: RoomId, messageId: z.coerce.number().int().positive(), emoji: Emoji });
/** What a reaction request left: the emoji's count on the message, and whether yours is on it. */
export const ReactionResponse = z.object({ emoji: z.string(), count: z.number().int().nonnegative(), mine: z.boolean() });

/** `GET /api/search`: see docs/search.md for what `q` may say. */
export const SearchQuery = z.object({
  q: z.string().min(1).max(200),
  /** Only this room (one the caller may read); otherwise every room they are in and their direct conversations. */
  room: RoomId.optional(),
  /** Paging: results older than this message id (the previous page's `nextBefore`). */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
/** One message found; `snippet` is plain text, `highlights` its matched ranges ([start, end) in UTF-16 code units). */
export const SearchResult = z.object({
  room: RoomId,
  id: z.number().int(),
  seq: Seq,
  author: z.string(),
  text: z.string(),
  ts: z.number().int(),
  snippet: z.string(),
  highlights: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
});
export const SearchResponse = z.object({
  results: z.array(SearchResult),
  /** Pass as `before` for the next (older) page; null when there is none. */
  nextBefore: z.number().int().nullable(),
});
export type SearchResult = z.infer<typeof SearchResult>;
export type SearchResponse = z.infer<typeof SearchResponse>;

export const ChangePasswordRequest = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: z.string().min(8).max(256),
});
/** One of your sessions: `id` names it for revoking (it is not the token). */
export const SessionInfo = z.object({
  id: z.string(),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  /** The session this request was made with. */
  current: z.boolean(),
});
export const SessionsResponse = z.object({ sessions: z.array(SessionInfo) });

/** An account as the admin API lists it. */
export const AdminUser = z.object({
  id: z.number().int(),
  username: z.string(),
  guest: z.boolean(),
  admin: z.boolean(),
  createdAt: z.number().int(),
  /** Its last sign-in or connection. */
  lastSeenAt: z.number().int().nullable(),
  deactivated: z.boolean(),
});
export type AdminUser = z.infer<typeof AdminUser>;
export const UsersQuery = z.object({
  /** Part of the username, any case. */
  query: z.string().max(32).optional(),
  guests: z.enum(['true', 'false']).optional(),
  /** Paging: the last username of the previous page. */
  after: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const UsersResponse = z.object({ users: z.array(AdminUser) });
export const AdminUserResponse = z.object({
  user: AdminUser,
  rooms: z.array(z.object({ id: z.string(), kind: RoomKind, role: RoomRole })),
  sessions: z.array(z.object({ createdAt: z.number().int(), expiresAt: z.number().int() })),
});
/** Your own account's deletion: confirmed with your password (guests have none). */
export const DeleteAccountRequest = z.object({ password: z.string().max(256).optional() });
export const PurgeGuestsRequest = z.object({ inactiveDays: z.number().int().min(1).max(3650) });
export const PurgeGuestsResponse = z.object({ purged: z.number().int().nonnegative() });
export const PasswordResetRequest = z.object({ password: z.string().min(8).max(256) });

export const AuditEntry = z.object({
  id: z.number().int(),
  at: z.number().int(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  room: z.string().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditQuery = z.object({
  /** Paging: entries older than this id. */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  action: z.string().regex(/^[a-z_]{1,40}$/).optional(),
  actor: z.string().min(1).max(32).optional(),
  room: RoomId.optional(),
});
export const AuditResponse = z.object({ entries: z.array(AuditEntry) });

/** Live figures for the admin console (the counters of /metrics, on this node). */
export const StatsResponse = z.object({
  node: z.string(),
  uptimeSeconds: z.number(),
  connections: z.number().int().nonnegative(),
  messagesStored: z.number().int().nonnegative(),
  messagesIn: z.number().int().nonnegative(),
  messagesOut: z.number().int().nonnegative(),
});

/** An instance role (admin API): `admin` runs the server, `user` does not. */
export const InstanceRoleRequest = z.object({ role: z.enum(['admin', 'user']) });
export const AdminsResponse = z.object({ admins: z.array(z.string()) });

export const RoleRequest = z.object({ role: z.enum(['moderator', 'member']) });

/** Opens the 1:1 (one name) or a new group conversation (up to 9 names) with the caller. */
export const OpenConversationRequest = z.object({ usernames: z.array(Username).min(1).max(9) });
export const RoomSummaryResponse = z.object({ room: RoomSummary });

export const Invitation = z.object({
  id: z.number().int(),
  room: z.string(),
  roomTitle: z.string(),
  invitedBy: z.string().nullable(),
  /** The invited user; null for a link. */
  username: z.string().nullable(),
  link: z.boolean(),
  /** Epoch ms; null: never. */
  expiresAt: z.number().int().nullable(),
  /** A link's remaining uses. */
  usesLeft: z.number().int().nullable(),
  state: z.enum(['pending', 'accepted', 'declined', 'revoked']),
  createdAt: z.number().int(),
});
export type Invitation = z.infer<typeof Invitation>;
export const InvitationsResponse = z.object({ invitations: z.array(Invitation) });
export const InviteLinkRequest = z.object({
  /** Default a week; at most 30 days. */
  expiresInSeconds: z.number().int().min(60).max(30 * 24 * 3600).optional(),
  /** Default 10. */
  uses: z.number().int().min(1).max(1000).optional(),
});
/** The link's token is shown this once; the server keeps only its hash. */
export const InviteLinkResponse = z.object({ invitation: Invitation, token: z.string() });

export const ErrorBody = z.object({ error: z.object({ code: ErrorCode, message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;
