import { z } from 'zod';

/** The WebSocket subprotocol clients offer. */
export const CHAT_SUBPROTOCOL = 'chat.v1';

/** `^[a-zA-Z0-9_.-]{2,32}$`; unique regardless of case. */
export const Username = z.string().regex(/^[a-zA-Z0-9_.-]{2,32}$/, 'a username is 2–32 of a-z, A-Z, 0-9, _ . -');

/** `^[a-z0-9][a-z0-9-]{0,63}$` */
export const RoomId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a room id is 1–64 of a-z, 0-9 and -, starting with a letter or digit');

/** A client's own id for a message, so a re-send after a reconnect is not stored twice. */
export const ClientMsgId = z.string().min(1).max(64);

/** A per-room sequence number: 1, 2, 3, … with no gaps. */
export const Seq = z.number().int().nonnegative();

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
