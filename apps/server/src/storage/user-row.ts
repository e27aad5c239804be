import type { InstanceRole, UserRecord } from './store.js';

/** A user as both stores' queries return it. */
export interface UserRow {
  id: number;
  username: string;
  guest: number | boolean;
  password_hash: string | null;
  created_at: number;
  role: InstanceRole;
  last_seen_at: number | null;
  deactivated_at: number | null;
}

/** The columns of a `UserRow`, from `users` (unqualified) or a table aliased `u`: the same SQL in both stores. */
export const USER_COLUMNS = 'id, username, guest, password_hash, created_at, role, last_seen_at, deactivated_at';
export const USER_COLUMNS_U = USER_COLUMNS.split(', ')
  .map((c) => `u.${c}`)
  .join(', ');

export const toUser = (row: UserRow): UserRecord => ({
  id: Number(row.id),
  username: row.username,
  guest: Boolean(row.guest),
  passwordHash: row.password_hash,
  createdAt: Number(row.created_at),
  role: row.role,
  lastSeenAt: row.last_seen_at === null ? null : Number(row.last_seen_at),
  deactivatedAt: row.deactivated_at === null ? null : Number(row.deactivated_at),
});
