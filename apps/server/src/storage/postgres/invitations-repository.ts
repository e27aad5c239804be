import type { Pool } from 'pg';
import { INVITATION_COLUMNS, toInvitation, type InvitationRow } from '../invitation-row.js';
import type { InvitationRecord, NewInvitation } from '../store.js';
import { statement } from './sql.js';

// A second pending invitation of the same user into the same room is the first one (unique partial index).
const insert = statement<{ id: number }>(
  'invitations_insert',
  `INSERT INTO invitations (room_id, invited_by, user_id, token_hash, expires_at, uses_left, created_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
);
const pendingId = statement<{ id: number }>(
  'invitations_pending_id',
  "SELECT id FROM invitations WHERE room_id = $1 AND user_id = $2 AND state = 'pending'",
);
const byId = statement<InvitationRow>('invitations_by_id', `SELECT ${INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1`);
const byToken = statement<InvitationRow>('invitations_by_token', `SELECT ${INVITATION_COLUMNS} FROM invitations i WHERE i.token_hash = $1`);
const forUser = statement<InvitationRow>(
  'invitations_for_user',
  `SELECT ${INVITATION_COLUMNS} FROM invitations i
    WHERE i.user_id = $1 AND i.state = 'pending' AND (i.expires_at IS NULL OR i.expires_at > $2)
    ORDER BY i.id DESC`,
);
const forRoom = statement<InvitationRow>(
  'invitations_for_room',
  `SELECT ${INVITATION_COLUMNS} FROM invitations i
    WHERE i.room_id = $1 AND i.state = 'pending' AND (i.expires_at IS NULL OR i.expires_at > $2)
    ORDER BY i.id DESC`,
);
// The answer and the membership in one statement, so one transaction: an
// accepted invitation is a member, a refused update (not pending, expired,
// someone else's) changes nothing.
const answer = statement<{ room_id: string }>(
  'invitations_answer',
  `WITH answered AS (
     UPDATE invitations SET state = $1, answered_at = $2::bigint
      WHERE id = $3 AND user_id = $4::bigint AND state = 'pending' AND (expires_at IS NULL OR expires_at > $2::bigint)
      RETURNING room_id),
   joined AS (
     INSERT INTO room_members (room_id, user_id, joined_at)
     SELECT room_id, $4::bigint, $2::bigint FROM answered WHERE $1 = 'accepted' ON CONFLICT DO NOTHING)
   SELECT room_id FROM answered`,
);
const redeem = statement<{ room_id: string }>(
  'invitations_redeem',
  `WITH used AS (
     UPDATE invitations SET uses_left = uses_left - 1
      WHERE token_hash = $1 AND state = 'pending' AND uses_left > 0 AND (expires_at IS NULL OR expires_at > $3::bigint)
      RETURNING room_id),
   joined AS (
     INSERT INTO room_members (room_id, user_id, joined_at)
     SELECT room_id, $2::bigint, $3::bigint FROM used ON CONFLICT DO NOTHING)
   SELECT room_id FROM used`,
);
const revoke = statement(
  'invitations_revoke',
  "UPDATE invitations SET state = 'revoked', answered_at = $2 WHERE id = $1 AND state = 'pending'",
);

export function createInvitationsRepository(pool: Pool) {
  const get = async (id: number): Promise<InvitationRecord | undefined> => {
    const { rows } = await byId(pool, [id]);
    return rows[0] && toInvitation(rows[0]);
  };
  return {
    async create(inv: NewInvitation): Promise<InvitationRecord> {
      const now = Date.now();
      const values = [inv.roomId, inv.invitedBy, inv.userId ?? null, inv.tokenHash ?? null, inv.expiresAt, inv.uses ?? null, now];
      const inserted = (await insert(pool, values)).rows[0];
      const id = inserted?.id ?? (await pendingId(pool, [inv.roomId, inv.userId])).rows[0]!.id;
      return (await get(id))!;
    },
    get,
    async findByToken(tokenHash: string): Promise<InvitationRecord | undefined> {
      const { rows } = await byToken(pool, [tokenHash]);
      return rows[0] && toInvitation(rows[0]);
    },
    async pendingFor(userId: number, now: number): Promise<InvitationRecord[]> {
      return (await forUser(pool, [userId, now])).rows.map(toInvitation);
    },
    async forRoom(roomId: string, now: number): Promise<InvitationRecord[]> {
      return (await forRoom(pool, [roomId, now])).rows.map(toInvitation);
    },
    async answer(id: number, userId: number, state: 'accepted' | 'declined', now: number): Promise<boolean> {
      return (await answer(pool, [state, now, id, userId])).rows.length > 0;
    },
    async redeem(tokenHash: string, userId: number, now: number): Promise<string | undefined> {
      return (await redeem(pool, [tokenHash, userId, now])).rows[0]?.room_id;
    },
    async revoke(id: number): Promise<boolean> {
      return ((await revoke(pool, [id, Date.now()])).rowCount ?? 0) > 0;
    },
  };
}
