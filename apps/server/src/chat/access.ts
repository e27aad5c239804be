import { DomainError } from '../domain-error.js';

/**
 * Who may do what in a room: the one place that says so. REST routes and the
 * WebSocket both ask here, with facts they have read (or, on the send path,
 * kept current in memory), so the rules cannot drift apart between them.
 *
 * Pure and synchronous on purpose: a send asks it for every message, and a
 * table-driven test (apps/server/test/chat/access.test.ts) can walk every case. Roles (owner,
 * moderator) and direct messages extend `Standing` and `RoomState` and add
 * rows to that table; callers keep asking the same question.
 */

/** What the asker wants to do. */
export type RoomAction =
  /** See a room's history (REST, or `history` over the socket). */
  | 'read'
  /** Join it over the socket: become a member, receive it live. */
  | 'join'
  /** Post a message (the connection has joined). */
  | 'send'
  /** Edit or delete a message of the room. */
  | 'change_message'
  /** Change the room itself or its members: update, archive, delete, kick, ban, unban, add, delete others' messages. */
  | 'administer';

/** The asker's standing in the room. */
export interface Standing {
  /** An instance administrator (the admin API). */
  readonly admin: boolean;
  readonly membership: 'none' | 'member' | 'banned';
}

/** What the rules need of a room (a `RoomRecord`, or the room state a connection keeps). */
export interface RoomState {
  readonly private: boolean;
  readonly archived: boolean;
}

/** What the rules need of the message an action is about. */
export interface MessageFacts {
  readonly byAsker: boolean;
}

export const STRANGER: Standing = { admin: false, membership: 'none' };
export const MEMBER: Standing = { admin: false, membership: 'member' };
export const BANNED: Standing = { admin: false, membership: 'banned' };
export const ADMIN: Standing = { admin: true, membership: 'none' };

/**
 * Why `action` is refused, or undefined when it is allowed. `room` undefined:
 * there is no such room. Errors are made only on refusal (the send path asks
 * for every message).
 */
export function refusal(
  action: RoomAction,
  who: Standing,
  roomId: string,
  room: RoomState | undefined,
  message?: MessageFacts,
): DomainError | undefined {
  // Nobody learns more about a missing room than that it is missing.
  if (room === undefined) return new DomainError('not_found', `no room ${roomId}`);
  if (action === 'administer') return who.admin ? undefined : new DomainError('forbidden', 'only an admin may do this');
  if (!who.admin) {
    if (who.membership === 'banned') return new DomainError('forbidden', 'you are banned from this room');
    if (room.private && who.membership !== 'member') return new DomainError('forbidden', 'this room is private');
  }
  if (action === 'read' || action === 'join') return undefined;
  // Posting and changing messages: an archived room is read-only for everyone, admins included
  // (they unarchive it first); only messages of the asker's own may be changed.
  if (who.membership !== 'member' && !who.admin) return new DomainError('forbidden', `join ${roomId} first`);
  if (room.archived) return new DomainError('forbidden', 'this room is archived');
  if (action === 'change_message' && message !== undefined && !message.byAsker && !who.admin) {
    return new DomainError('forbidden', 'only the author may change a message');
  }
  return undefined;
}

/** Throws the refusal, if any. */
export function authorize(action: RoomAction, who: Standing, roomId: string, room: RoomState | undefined, message?: MessageFacts): void {
  const refused = refusal(action, who, roomId, room, message);
  if (refused) throw refused;
}
