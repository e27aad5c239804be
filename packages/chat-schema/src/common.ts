import { z } from 'zod';

/** The WebSocket subprotocol clients offer. */
export const CHAT_SUBPROTOCOL = 'chat.v1';

/** `^[a-zA-Z0-9_.-]{2,32}$`; unique regardless of case. */
export const Username = z.string().regex(/^[a-zA-Z0-9_.-]{2,32}$/, 'a username is 2–32 of a-z, A-Z, 0-9, _ . -');

/**
 * `@name` as the server reads a mention (and the web client marks it): a
 * username, not inside a word or an e-mail address. Global: use with
 * `matchAll`. `@room` matches too and means everyone.
 */
export const MENTION_PATTERN = /(?<![\w.@-])@([a-zA-Z0-9_.-]{2,32})(?![a-zA-Z0-9_.-])/g;

/** `^[a-z0-9][a-z0-9-]{0,63}$` */
export const RoomId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a room id is 1–64 of a-z, 0-9 and -, starting with a letter or digit');

/** A client's own id for a message, so a re-send after a reconnect is not stored twice. */
export const ClientMsgId = z.string().min(1).max(64);

/** A per-room sequence number: 1, 2, 3, … with no gaps. */
export const Seq = z.number().int().nonnegative();

/**
 * A reaction: an emoji (one or more pictographs, with their joiners and
 * modifiers, or a flag) or a `:shortcode:` — at most 32 UTF-16 units.
 */
export const Emoji = z
  .string()
  .min(1)
  // zod counts code points; the bound is on UTF-16 units, what a JS string's length is.
  .refine((s) => s.length <= 32, 'a reaction is at most 32 characters')
  .regex(
    /^(?:(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\p{Regional_Indicator}|\u200d|\ufe0f|\u20e3)+|:[a-z0-9_+-]{1,30}:)$/u,
    'a reaction is an emoji or a :shortcode:',
  )
  .refine((s) => s.startsWith(':') || /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u.test(s), 'a reaction is an emoji or a :shortcode:');

/** The message a reply answers, quoted: enough to show it without loading it. */
export const ReplyQuote = z.object({
  id: z.number().int(),
  seq: Seq,
  author: z.string(),
  /** Its first 200 characters ('' when deleted). */
  text: z.string(),
  deleted: z.boolean(),
});
export type ReplyQuote = z.infer<typeof ReplyQuote>;

/** One emoji on a message: how many, and who (first first). */
export const Reaction = z.object({ emoji: z.string(), count: z.number().int().positive(), users: z.array(z.string()) });
export type Reaction = z.infer<typeof Reaction>;

/** An upload's id: 22 characters of base64url (128 random bits). */
export const AttachmentId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'an attachment id is 22 characters of A-Z a-z 0-9 _ -');

/** A file on a message (or just uploaded): fetch it at `url` with the session, as a member of its room. */
export const Attachment = z.object({
  id: AttachmentId,
  /** The name it was uploaded with (no path, no control characters). */
  name: z.string(),
  size: z.number().int().nonnegative(),
  /** Found by sniffing its bytes, never the uploader's claim; `application/octet-stream` when unknown. */
  contentType: z.string(),
  url: z.string(),
  /** Images only. */
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  /** Images only: a small WebP of it. */
  thumbnailUrl: z.string().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

/** A chat message as stored and delivered. `ts` and `editedAt` are milliseconds since the epoch. */
export const ChatMessage = z.object({
  id: z.number().int(),
  seq: Seq,
  author: z.string(),
  text: z.string(),
  ts: z.number().int(),
  clientMsgId: z.string(),
  editedAt: z.number().int().optional(),
  /** A deleted message keeps its place (`seq`) with empty text. */
  deleted: z.boolean().optional(),
  /** Present on a reply: the message it answers. */
  replyTo: ReplyQuote.optional(),
  /** Replies to it that are not deleted (absent: none). */
  replies: z.number().int().positive().optional(),
  /** Absent: none. */
  reactions: z.array(Reaction).optional(),
  /** Pinned to its room. */
  pinned: z.boolean().optional(),
  /** Its files (absent: none). */
  attachments: z.array(Attachment).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A member's role in a room. Owners and moderators moderate; the owner also manages roles. */
export const RoomRole = z.enum(['owner', 'moderator', 'member']);
export type RoomRole = z.infer<typeof RoomRole>;

/** `room`: a titled room, public or private; `direct`: a conversation between named users. */
export const RoomKind = z.enum(['room', 'direct']);
export type RoomKind = z.infer<typeof RoomKind>;

export const Member = z.object({
  username: z.string(),
  online: z.boolean(),
  /** Since roles; absent from servers before them. */
  role: RoomRole.optional(),
});
export type Member = z.infer<typeof Member>;

/** Error codes carried by `{type:"error"}` messages and HTTP error bodies. */
export const ErrorCode = z.enum([
  'bad_json',
  'invalid_message',
  'invalid_request',
  'unauthorized',
  'not_found',
  'forbidden',
  'conflict',
  'rate_limited',
  'too_large',
  'history_gap',
  'admin_disabled',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;
