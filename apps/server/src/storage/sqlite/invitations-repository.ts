import type { Database } from 'better-sqlite3';
import { INVITATION_COLUMNS, toInvitation, type InvitationRow } from '../invitation-row.js';
import type { InvitationRecord, NewInvitation } from '../store.js';

export function createInvitationsRepository(db: Database) {
  // A second pending invitation of the same user into the same room is the first one (unique partial index).
  const insert = db.prepare<[string, number, number | null, string | null, number | null, number | null, number], { id: number }>(
    `INSERT INTO invitations (room_id, invited_by, user_id, token_hash, expires_at, uses_left, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
  );
  const pendingFor = db.prepare<[string, number], { id: number }>(
    "SELECT id FROM invitations WHERE room_id = ? AND user_id = ? AND state = 'pending'",
  );
  const byId = db.prepare<[number], InvitationRow>(`SELECT ${INVITATION_COLUMNS} FROM invitations i WHERE i.id = ?`);
  const byToken = db.prepare<[string], InvitationRow>(`SELECT ${INVITATION_COLUMNS} FROM invitations i WHERE i.token_hash = ?`);
  const forUser = db.prepare<[number, number], InvitationRow>(
    `SELECT ${INVITATION_COLUMNS} FROM invitations i
      WHERE i.user_id = ? AND i.state = 'pending' AND (i.expires_at IS NULL OR i.expires_at > ?)
      ORDER BY i.id DESC`,
  );
  const forRoom = db.prepare<[string, number], InvitationRow>(
    `SELECT ${INVITATION_COLUMNS} FROM invitations i
      WHERE i.room_id = ? AND i.state = 'pending' AND (i.expires_at IS NULL OR i.expires_at > ?)
      ORDER BY i.id DESC`,
  );
  const answer = db.prepare<[string, number, number, number, number], { room_id: string }>(
    `UPDATE invitations SET state = ?, answered_at = ?
      WHERE id = ? AND user_id = ? AND state = 'pending' AND (expires_at IS NULL OR expires_at > ?)
      RETURNING room_id`,
  );
  const useLink = db.prepare<[string, number], { room_id: string }>(
    `UPDATE invitations SET uses_left = uses_left - 1
      WHERE token_hash = ? AND state = 'pending' AND uses_left > 0 AND (expires_at IS NULL OR expires_at > ?)
      RETURNING room_id`,
  );
  const revoke = db.prepare("UPDATE invitations SET state = 'revoked', answered_at = ? WHERE id = ? AND state = 'pending'");
  const join = db.prepare('INSERT INTO room_members (room_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');

  // Each a transaction (a savepoint on the writer thread): the answer and the membership commit together.
  const create = db.transaction((inv: NewInvitation): InvitationRecord => {
    const now = Date.now();
    const row = insert.get(inv.roomId, inv.invitedBy, inv.userId ?? null, inv.tokenHash ?? null, inv.expiresAt, inv.uses ?? null, now);
    const id = row?.id ?? pendingFor.get(inv.roomId, inv.userId!)!.id;
    return toInvitation(byId.get(id)!);
  });
  const respond = db.transaction((id: number, userId: number, state: 'accepted' | 'declined', now: number): boolean => {
    const row = answer.get(state, now, id, userId, now);
    if (!row) return false;
    if (state === 'accepted') join.run(row.room_id, userId, now);
    return true;
  });
  const redeem = db.transaction((tokenHash: string, userId: number, now: number): string | undefined => {
    const row = useLink.get(tokenHash, now);
    if (!row) return undefined;
    join.run(row.room_id, userId, now);
    return row.room_id;
  });

  return {
    create(inv: NewInvitation): InvitationRecord {
      return create(inv);
    },
    get(id: number): InvitationRecord | undefined {
      const row = byId.get(id);
      return row && toInvitation(row);
    },
    findByToken(tokenHash: string): InvitationRecord | undefined {
      const row = byToken.get(tokenHash);
      return row && toInvitation(row);
    },
    pendingFor(userId: number, now: number): InvitationRecord[] {
      return forUser.all(userId, now).map(toInvitation);
    },
    forRoom(roomId: string, now: number): InvitationRecord[] {
      return forRoom.all(roomId, now).map(toInvitation);
    },
    answer(id: number, userId: number, state: 'accepted' | 'declined', now: number): boolean {
      return respond(id, userId, state, now);
    },
    redeem(tokenHash: string, userId: number, now: number): string | undefined {
      return redeem(tokenHash, userId, now);
    },
    revoke(id: number): boolean {
      return revoke.run(Date.now(), id).changes > 0;
    },
  };
}
