import type { InvitationRecord, InvitationState } from './store.js';

/** An invitation as both stores' queries return it (the room's title and both users' names joined in). */
export interface InvitationRow {
  id: number;
  room_id: string;
  room_title: string;
  invited_by: string | null;
  invited_by_id: number | null;
  user_id: number | null;
  username: string | null;
  expires_at: number | null;
  uses_left: number | null;
  state: InvitationState;
  created_at: number;
}

/** The columns of an `InvitationRow`, from `invitations i`: the same SQL in both stores. */
export const INVITATION_COLUMNS = `i.id, i.room_id, (SELECT title FROM rooms WHERE id = i.room_id) AS room_title,
  (SELECT username FROM users WHERE id = i.invited_by) AS invited_by, i.invited_by AS invited_by_id, i.user_id,
  (SELECT username FROM users WHERE id = i.user_id) AS username, i.expires_at, i.uses_left, i.state, i.created_at`;

export const toInvitation = (row: InvitationRow): InvitationRecord => ({
  id: Number(row.id),
  roomId: row.room_id,
  roomTitle: row.room_title,
  invitedBy: row.invited_by,
  invitedById: row.invited_by_id === null ? null : Number(row.invited_by_id),
  userId: row.user_id === null ? null : Number(row.user_id),
  username: row.username,
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  usesLeft: row.uses_left,
  state: row.state,
  createdAt: Number(row.created_at),
});
