import { createHash, randomBytes } from 'node:crypto';
import type { Invitation } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import type { ChatStore, InvitationRecord } from '../storage/store.js';
import { authorize, standingOf } from './access.js';
import type { Asker, RoomService } from './rooms.js';
import type { Notify } from './user-notices.js';

/** A link lasts a week and lets ten people in, unless its maker says otherwise. */
export const LINK_DEFAULTS = { expiresInSeconds: 7 * 24 * 3600, uses: 10 };

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export function toInvitation(r: InvitationRecord): Invitation {
  return {
    id: r.id,
    room: r.roomId,
    roomTitle: r.roomTitle,
    invitedBy: r.invitedBy,
    username: r.username,
    link: r.userId === null,
    expiresAt: r.expiresAt,
    usesLeft: r.usesLeft,
    state: r.state,
    createdAt: r.createdAt,
  };
}

/**
 * Ways into a private room: an invitation of one user, who sees it (live and
 * in REST) and accepts or declines it, or a link with an expiry and a use
 * count. Owners and moderators invite (access.ts, action `invite`); the
 * inviter or a moderator revokes. Accepting makes a member in the same
 * transaction that answers the invitation. A new member sees the room's whole
 * history, as members who were there before them do: a room's history is the
 * room's, not a member's (docs/protocol.md, "Invitations").
 */
export class InvitationService {
  constructor(
    private readonly store: ChatStore,
    private readonly rooms: RoomService,
    private readonly notify: Notify,
  ) {}

  async invite(asker: { userId: number }, roomId: string, username: string): Promise<Invitation> {
    await this.rooms.permitted(asker, roomId, 'invite');
    const user = await this.rooms.userNamed(username);
    const { role, banned } = await this.store.memberStanding(roomId, user.id);
    if (role !== null) throw new DomainError('conflict', `${user.username} is already in ${roomId}`);
    if (banned) throw new DomainError('forbidden', `${user.username} is banned from ${roomId}: unban them first`);
    const invitation = toInvitation(
      await this.store.createInvitation({ roomId, invitedBy: asker.userId, userId: user.id, expiresAt: null }),
    );
    await this.notify([user.id], { type: 'invitation', invitation });
    return invitation;
  }

  /** A link: the token is shown once, here; the store keeps its hash. */
  async createLink(
    asker: { userId: number },
    roomId: string,
    options: { expiresInSeconds?: number | undefined; uses?: number | undefined },
  ): Promise<{ invitation: Invitation; token: string }> {
    await this.rooms.permitted(asker, roomId, 'invite');
    const token = randomBytes(24).toString('base64url');
    const record = await this.store.createInvitation({
      roomId,
      invitedBy: asker.userId,
      tokenHash: hash(token),
      expiresAt: Date.now() + (options.expiresInSeconds ?? LINK_DEFAULTS.expiresInSeconds) * 1000,
      uses: options.uses ?? LINK_DEFAULTS.uses,
    });
    return { invitation: toInvitation(record), token };
  }

  async mine(userId: number): Promise<Invitation[]> {
    return (await this.store.pendingInvitationsFor(userId, Date.now())).map(toInvitation);
  }

  async forRoom(asker: Asker, roomId: string): Promise<Invitation[]> {
    await this.rooms.permitted(asker, roomId, asker === 'admin' ? 'administer' : 'invite');
    return (await this.store.roomInvitations(roomId, Date.now())).map(toInvitation);
  }

  /** Accepted: a member from now on; declined: gone. The user's other connections hear of it. */
  async answer(userId: number, id: number, answer: 'accepted' | 'declined'): Promise<void> {
    const found = await this.store.getInvitation(id);
    // Someone else's invitation is as missing as one that never was.
    if (!found || found.userId !== userId) throw new DomainError('not_found', `no invitation ${id}`);
    this.checkUsable(found);
    if (answer === 'accepted') {
      const { banned } = await this.store.memberStanding(found.roomId, userId);
      if (banned) throw new DomainError('forbidden', `you are banned from ${found.roomId}`);
    }
    if (!(await this.store.answerInvitation(id, userId, answer, Date.now()))) {
      throw new DomainError('conflict', 'the invitation is no longer pending');
    }
    await this.notify([userId], { type: 'invitation_removed', id, reason: answer });
  }

  /** Joins by a link; the room's id. Already a member: nothing used up. */
  async redeem(userId: number, token: string): Promise<string> {
    const found = await this.store.findInvitationByToken(hash(token));
    if (!found) throw new DomainError('not_found', 'no such invite link');
    const { role, banned } = await this.store.memberStanding(found.roomId, userId);
    if (role !== null) return found.roomId;
    this.checkUsable(found);
    if (banned) throw new DomainError('forbidden', `you are banned from ${found.roomId}`);
    const room = await this.store.redeemInvitationLink(hash(token), userId, Date.now());
    if (!room) throw new DomainError('conflict', 'the invite link has been used up or has expired');
    return room;
  }

  /** The inviter, a moderator or the owner of its room, or an admin, takes it back. */
  /** Returns the invitation's room. */
  async revoke(asker: Asker, id: number): Promise<string> {
    const found = await this.store.getInvitation(id);
    if (!found) throw new DomainError('not_found', `no invitation ${id}`);
    if (asker !== 'admin') {
      const { role, banned } = await this.store.memberStanding(found.roomId, asker.userId);
      const mine = found.invitedById === asker.userId && role !== null;
      if (!mine) authorize('invite', standingOf(role, banned), found.roomId, await this.store.getRoom(found.roomId));
    }
    if (!(await this.store.revokeInvitation(id))) throw new DomainError('conflict', 'the invitation is no longer pending');
    if (found.userId !== null) await this.notify([found.userId], { type: 'invitation_removed', id, reason: 'revoked' });
    return found.roomId;
  }

  private checkUsable(found: InvitationRecord): void {
    if (found.state === 'revoked') throw new DomainError('conflict', 'the invitation was revoked');
    if (found.state !== 'pending') throw new DomainError('conflict', `the invitation was ${found.state} already`);
    if (found.expiresAt !== null && found.expiresAt <= Date.now()) throw new DomainError('conflict', 'the invitation has expired');
    if (found.usesLeft !== null && found.usesLeft <= 0) throw new DomainError('conflict', 'the invite link has been used up');
  }
}
