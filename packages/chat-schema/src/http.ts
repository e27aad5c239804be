import { z } from 'zod';
import { ChatMessage, ErrorCode, Member, RoomId, Seq, Username } from './common.js';

export const Credentials = z.object({ username: Username, password: z.string().min(8).max(256) });
export const GuestRequest = z.object({ username: Username });

export const User = z.object({ id: z.number().int(), username: z.string(), guest: z.boolean() });
export type User = z.infer<typeof User>;
export const AuthResponse = z.object({ user: User, token: z.string() });
export type AuthResponse = z.infer<typeof AuthResponse>;

const RoomFields = z.object({
  id: z.string(),
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
});
export const AdminCreateRoomRequest = CreateRoomRequest.extend({
  topic: z.string().max(500).optional(),
  private: z.boolean().optional(),
});
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

export const ErrorBody = z.object({ error: z.object({ code: ErrorCode, message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;
