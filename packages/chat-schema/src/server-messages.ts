import { z } from 'zod';
import { ChatMessage, ErrorCode, Member, RoomRole, Seq } from './common.js';
import { Invitation, RoomSummary } from './http.js';

const Ref = z.union([z.string(), z.number()]).optional();

export const JoinedEvent = z.object({
  type: z.literal('joined'),
  room: z.string(),
  title: z.string(),
  topic: z.string(),
  members: z.array(Member),
  history: z.array(ChatMessage),
  lastSeq: Seq,
  /** True when `since` was further back than the server replays: reload history instead. */
  truncated: z.boolean().optional(),
  ref: Ref,
});
export const LeftEvent = z.object({ type: z.literal('left'), room: z.string(), ref: Ref });
export const MessageEvent = ChatMessage.extend({ type: z.literal('message'), room: z.string(), ref: Ref });
export const MessageUpdatedEvent = ChatMessage.extend({ type: z.literal('message_updated'), room: z.string(), ref: Ref });
export const HistoryEvent = z.object({
  type: z.literal('history'),
  room: z.string(),
  messages: z.array(ChatMessage),
  ref: Ref,
});
export const TypingEvent = z.object({ type: z.literal('typing'), room: z.string(), user: z.string() });
export const PresenceEvent = z.object({
  type: z.literal('presence'),
  room: z.string(),
  user: z.string(),
  state: z.enum(['online', 'offline']),
});
/**
 * To connections that joined with `presence: "batched"`: the users of the room who came online
 * or went offline since the last one (each user in one list, their latest state; never yourself).
 */
export const PresenceBatchEvent = z.object({
  type: z.literal('presence_batch'),
  room: z.string(),
  online: z.array(z.string()),
  offline: z.array(z.string()),
});
export const RoomEvent = z.object({
  type: z.literal('room'),
  room: z.string(),
  event: z.enum(['updated', 'deleted', 'kicked', 'banned']),
  title: z.string().optional(),
  topic: z.string().optional(),
  private: z.boolean().optional(),
  archived: z.boolean().optional(),
});
/** A member's role changed (to everyone in the room). */
export const RoleEvent = z.object({ type: z.literal('role'), room: z.string(), user: z.string(), role: RoomRole });
/** A room became yours without your asking: someone opened a conversation with you. */
export const RoomAddedEvent = z.object({ type: z.literal('room_added'), room: RoomSummary });
/** You were invited into a room. */
export const InvitationEvent = z.object({ type: z.literal('invitation'), invitation: Invitation });
/** An invitation of yours was answered (maybe on another tab) or revoked. */
export const InvitationRemovedEvent = z.object({
  type: z.literal('invitation_removed'),
  id: z.number().int(),
  reason: z.enum(['accepted', 'declined', 'revoked']),
});
/** Someone added (or removed) a reaction; `count` is the emoji's count on the message now. */
export const ReactionEvent = z.object({
  type: z.literal('reaction'),
  room: z.string(),
  id: z.number().int(),
  emoji: z.string(),
  user: z.string(),
  added: z.boolean(),
  count: z.number().int().nonnegative(),
  ref: Ref,
});
/** A room's pinned messages (the answer to `pins`), the latest pin first. */
export const PinsEvent = z.object({ type: z.literal('pins'), room: z.string(), messages: z.array(ChatMessage), ref: Ref });
/** A message's replies (the answer to `thread`), oldest first. */
export const ThreadEvent = z.object({
  type: z.literal('thread'),
  room: z.string(),
  id: z.number().int(),
  messages: z.array(ChatMessage),
  ref: Ref,
});
/** A message mentioned you (by name, or `@room`): to your connections, whatever rooms they joined. */
export const MentionEvent = z.object({
  type: z.literal('mention'),
  room: z.string(),
  id: z.number().int(),
  seq: Seq,
  author: z.string(),
});
export const ReadEvent = z.object({ type: z.literal('read'), room: z.string(), seq: Seq, ref: Ref });
export const ErrorEvent = z.object({
  type: z.literal('error'),
  code: ErrorCode,
  message: z.string(),
  room: z.string().optional(),
  ref: Ref,
});

export const ServerMessage = z.discriminatedUnion('type', [
  JoinedEvent,
  LeftEvent,
  MessageEvent,
  MessageUpdatedEvent,
  HistoryEvent,
  TypingEvent,
  PresenceEvent,
  PresenceBatchEvent,
  RoomEvent,
  ReadEvent,
  RoleEvent,
  RoomAddedEvent,
  InvitationEvent,
  InvitationRemovedEvent,
  ReactionEvent,
  PinsEvent,
  ThreadEvent,
  MentionEvent,
  ErrorEvent,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
export type JoinedEvent = z.infer<typeof JoinedEvent>;
export type MessageEvent = z.infer<typeof MessageEvent>;
export type MessageUpdatedEvent = z.infer<typeof MessageUpdatedEvent>;
export type PresenceEvent = z.infer<typeof PresenceEvent>;
export type PresenceBatchEvent = z.infer<typeof PresenceBatchEvent>;
export type RoomEvent = z.infer<typeof RoomEvent>;
export type ErrorEvent = z.infer<typeof ErrorEvent>;
