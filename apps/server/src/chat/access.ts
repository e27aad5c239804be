import { DomainError } from '../domain-error.js';
import type { RoomKind, RoomRole } from '../storage/store.js';

/**
 * Who may do what in a room: the one place that says so. REST routes and the
 * WebSocket both ask here, with facts they have read (or, on the send path,
 * kept current in memory), so the rules cannot drift apart between them.
 *
 * Pure and synchronous on purpose: a send asks it for every message, and a
 * table-driven test (apps/server/test/chat/access.test.ts) walks every case:
 * who (stranger, member, moderator, owner, banned, instance admin) × room
 * (public, private, archived, a direct conversation, none) × action, and for
 * the actions done to another member, that member's standing.
 */

/** What the asker wants to do. */
export type RoomAction =
  /** See a room's history (REST, or `history` over the socket). */
  | 'read'
  /** Join it over the socket: become a member, receive it live. */
  | 'join'
  /** Post a message (the connection has joined); replying and reacting ask the same. */
  | 'send'
  /** Edit a message: its author only. */
  | 'edit_message'
  /** Delete a message: its author, or a moderator of the room. */
  | 'delete_message'
  /** Edit title and topic, kick, ban, unban: owners and moderators. */
  | 'moderate'
  /** Pin or unpin a message: owners and moderators; any member of a direct conversation. */
  | 'pin'
  /** Mention `@room` (notify every member): owners and moderators; any member of a direct conversation. */
  | 'mention_room'
  /** Invite someone, or make an invite link: owners and moderators, in a room that is not archived. */
  | 'invite'
  /** Change roles, transfer ownership, make private or public, archive, delete: the owner. */
  | 'manage'
  /** The instance's own: list every room, create private rooms for others. */
  | 'administer';

/** The asker's standing in the room (or the standing of the member an action is done to). */
export interface Standing {
  /** An instance administrator (the admin API): may do everything. */
  readonly admin: boolean;
  readonly membership: 'none' | 'member' | 'banned';
  /** The role, for a member. */
  readonly role: RoomRole | null;
}

/** What the rules need of a room (a `RoomRecord`, or the room state a connection keeps). */
export interface RoomState {
  readonly private: boolean;
  readonly archived: boolean;
  /** Absent: a room (what connections that predate direct conversations keep). */
  readonly kind?: RoomKind;
}

/** What the rules need of the message, or the member, an action is about. */
export interface ActionFacts {
  /** The message is the asker's own. */
  readonly byAsker?: boolean;
  /** The member a kick, ban or role change is done to. */
  readonly target?: Standing;
}

export const STRANGER: Standing = { admin: false, membership: 'none', role: null };
export const MEMBER: Standing = { admin: false, membership: 'member', role: 'member' };
export const MODERATOR: Standing = { admin: false, membership: 'member', role: 'moderator' };
export const OWNER: Standing = { admin: false, membership: 'member', role: 'owner' };
export const BANNED: Standing = { admin: false, membership: 'banned', role: null };
export const ADMIN: Standing = { admin: true, membership: 'none', role: null };

/** A member's standing from their role (null: not a member) and ban. */
export function standingOf(role: RoomRole | null, banned: boolean): Standing {
  if (banned) return BANNED;
  if (role === 'owner') return OWNER;
  if (role === 'moderator') return MODERATOR;
  return role === 'member' ? MEMBER : STRANGER;
}

const RANK: Record<RoomRole, number> = { member: 0, moderator: 1, owner: 2 };

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
  facts: ActionFacts = {},
): DomainError | undefined {
  // Nobody learns more about a missing room than that it is missing, and a
  // direct conversation is missing to everyone outside it.
  const direct = room?.kind === 'direct';
  if (room === undefined || (direct && !who.admin && who.membership !== 'member')) {
    return new DomainError('not_found', `no room ${roomId}`);
  }
  if (action === 'administer') return who.admin ? undefined : new DomainError('forbidden', 'only an admin may do this');
  if (!who.admin) {
    if (who.membership === 'banned') return new DomainError('forbidden', 'you are banned from this room');
    if (room.private && who.membership !== 'member') return new DomainError('forbidden', 'this room is private');
  }
  if (action === 'read' || action === 'join') return undefined;
  if (who.membership !== 'member' && !who.admin) return new DomainError('forbidden', `join ${roomId} first`);

  switch (action) {
    case 'send':
    case 'edit_message':
    case 'delete_message':
      // An archived room is read-only for everyone, admins included (they unarchive it first).
      if (room.archived) return new DomainError('forbidden', 'this room is archived');
      if (action === 'edit_message' && facts.byAsker === false) return new DomainError('forbidden', 'only the author may edit a message');
      if (action === 'delete_message' && facts.byAsker === false && !who.admin && (direct || rank(who) < RANK.moderator)) {
        return new DomainError('forbidden', 'only the author or a moderator may delete a message');
      }
      return undefined;
    case 'pin':
    case 'mention_room':
      if (room.archived) return new DomainError('forbidden', 'this room is archived');
      if (direct || who.admin || rank(who) >= RANK.moderator) return undefined;
      return new DomainError('forbidden', `only a moderator or the owner may ${action === 'pin' ? 'pin messages' : 'mention @room'}`);
    case 'moderate':
    case 'invite':
      if (direct && !who.admin) return new DomainError('forbidden', 'a direct conversation has no moderators');
      if (action === 'invite' && room.archived) return new DomainError('forbidden', 'this room is archived');
      if (!who.admin && rank(who) < RANK.moderator) return new DomainError('forbidden', 'only a moderator or the owner may do this');
      return targetRefusal(who, facts.target);
    case 'manage':
      if (direct && !who.admin) return new DomainError('forbidden', 'a direct conversation has no owner');
      if (!who.admin && who.role !== 'owner') return new DomainError('forbidden', 'only the owner may do this');
      return targetRefusal(who, facts.target);
  }
}

/** Nobody acts on someone of their own rank or above (the owner on no one above, an admin on anyone). */
function targetRefusal(who: Standing, target: Standing | undefined): DomainError | undefined {
  if (target === undefined || who.admin || target.membership !== 'member') return undefined;
  if (rank(target) >= rank(who)) {
    return new DomainError('forbidden', target.role === 'owner' ? 'nobody may act on the owner' : 'only the owner may act on a moderator');
  }
  return undefined;
}

const rank = (who: Standing): number => (who.role === null ? -1 : RANK[who.role]);

/** Throws the refusal, if any. */
export function authorize(action: RoomAction, who: Standing, roomId: string, room: RoomState | undefined, facts?: ActionFacts): void {
  const refused = refusal(action, who, roomId, room, facts);
  if (refused) throw refused;
}
