import { z } from 'zod';
import { AttachmentId, ClientMsgId, Emoji, RoomId, Seq } from './common.js';

/** Every client message may carry `ref`, echoed in the direct reply. */
const Ref = z.union([z.string().max(64), z.number()]).optional();

/**
 * `presence: "batched"`: this connection hears of the room's arrivals and departures as
 * `presence_batch` events (several users each) instead of one `presence` event per user.
 */
export const JoinMessage = z.object({ type: z.literal('join'), room: RoomId, since: Seq.optional(), presence: z.literal('batched').optional(), ref: Ref });
export const LeaveMessage = z.object({ type: z.literal('leave'), room: RoomId, ref: Ref });
export const SendMessage = z
  .object({
    type: z.literal('send'),
    room: RoomId,
    /** May be empty only when the message carries files (`attachments`). */
    // The byte limit (MAX_MESSAGE_BYTES) is the server's to set; this only bounds the schema.
    text: z.string(),
    clientMsgId: ClientMsgId,
    /** The id of the message of the same room this one replies to. */
    replyTo: z.number().int().optional(),
    /**
     * Uploads of the sender in this room (`POST /api/rooms/{id}/files`) not yet
     * on a message; the server's MAX_ATTACHMENTS_PER_MESSAGE bounds how many.
     */
    attachments: z.array(AttachmentId).max(100).optional(),
    ref: Ref,
  })
  // Files-only messages came after v1's first clients, which always send text: additive, as an empty text was refused before.
  .refine((m) => m.text !== '' || (m.attachments !== undefined && m.attachments.length > 0), {
    message: 'a message needs text or at least one file',
    path: ['text'],
  });
export const HistoryRequest = z.object({
  type: z.literal('history'),
  room: RoomId,
  before: Seq.optional(),
  limit: z.number().int().min(1).max(100).optional(),
  ref: Ref,
});
export const TypingMessage = z.object({ type: z.literal('typing'), room: RoomId, ref: Ref });
export const EditMessage = z.object({
  type: z.literal('edit'),
  room: RoomId,
  id: z.number().int(),
  text: z.string().min(1),
  ref: Ref,
});
export const DeleteMessage = z.object({ type: z.literal('delete'), room: RoomId, id: z.number().int(), ref: Ref });
export const ReactMessage = z.object({ type: z.literal('react'), room: RoomId, id: z.number().int(), emoji: Emoji, ref: Ref });
export const UnreactMessage = z.object({ type: z.literal('unreact'), room: RoomId, id: z.number().int(), emoji: Emoji, ref: Ref });
export const PinMessage = z.object({ type: z.literal('pin'), room: RoomId, id: z.number().int(), pinned: z.boolean(), ref: Ref });
export const PinsRequest = z.object({ type: z.literal('pins'), room: RoomId, ref: Ref });
export const ThreadRequest = z.object({
  type: z.literal('thread'),
  room: RoomId,
  /** The message whose replies are wanted. */
  id: z.number().int(),
  /** Replies with a seq after this one (paging). */
  after: Seq.optional(),
  limit: z.number().int().min(1).max(100).optional(),
  ref: Ref,
});
export const ReadMessage = z.object({ type: z.literal('read'), room: RoomId, seq: Seq, ref: Ref });

export const ClientMessage = z.discriminatedUnion('type', [
  JoinMessage,
  LeaveMessage,
  SendMessage,
  HistoryRequest,
  TypingMessage,
  EditMessage,
  DeleteMessage,
  ReadMessage,
  ReactMessage,
  UnreactMessage,
  PinMessage,
  PinsRequest,
  ThreadRequest,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export type ClientMessageType = ClientMessage['type'];
