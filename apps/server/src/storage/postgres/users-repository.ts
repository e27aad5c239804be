import type { Pool } from 'pg';
import { ConflictError, type InstanceRole, type SessionRecord, type UserFilter, type UserRecord, type UserRoleChange } from '../store.js';
import { USER_COLUMNS, USER_COLUMNS_U, toUser, type UserRow } from '../user-row.js';
import { inTransaction, statement } from './sql.js';

const insertUser = statement<UserRow>(
  'users_insert',
  `INSERT INTO users (username, username_key, password_hash, guest, created_at) VALUES ($1, $2, $3, $4, $5)
   ON CONFLICT (username_key) DO NOTHING
   RETURNING ${USER_COLUMNS}`,
);
const userByKey = statement<UserRow>('users_by_key', `SELECT ${USER_COLUMNS} FROM users WHERE username_key = $1`);

// The admins' rows locked: two demotions at once take turns, so they cannot both leave the other as the last.
const lockAdmins = statement<{ id: number }>('users_lock_admins', "SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE");
const setRole = statement('users_set_role', 'UPDATE users SET role = $2 WHERE id = $1');
const admins = statement<{ username: string }>('users_admins', "SELECT username FROM users WHERE role = 'admin' ORDER BY username_key");

const setPassword = statement('users_set_password', 'UPDATE users SET password_hash = $2 WHERE id = $1');
const touch = statement('users_touch', 'UPDATE users SET last_seen_at = $2 WHERE id = $1');
const deactivate = statement('users_deactivate', 'UPDATE users SET deactivated_at = $2 WHERE id = $1');
const list = statement<UserRow>(
  'users_list',
  `SELECT ${USER_COLUMNS} FROM users
    WHERE strpos(username_key, $1) > 0 AND ($2::boolean IS NULL OR guest = $2) AND username_key > $3
    ORDER BY username_key LIMIT $4`,
);

// One statement: the account renamed and everything of it that is not a message gone, in one transaction.
const removeUser = statement<{ id: number }>(
  'users_delete',
  `WITH u AS (
     UPDATE users SET username = 'deleted-' || id, username_key = 'deleted-' || id, password_hash = NULL, role = 'user',
            deactivated_at = COALESCE(deactivated_at, $2)
      WHERE id = $1 RETURNING id),
   s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u)),
   m AS (DELETE FROM room_members WHERE user_id IN (SELECT id FROM u)),
   b AS (DELETE FROM room_bans WHERE user_id IN (SELECT id FROM u)),
   i AS (DELETE FROM invitations WHERE user_id IN (SELECT id FROM u) AND state = 'pending'),
   r AS (DELETE FROM reactions WHERE user_id IN (SELECT id FROM u)),
   x AS (DELETE FROM mentions WHERE user_id IN (SELECT id FROM u))
   SELECT id FROM u`,
);
const inactiveGuests = statement<{ id: number }>(
  'users_inactive_guests',
  'SELECT id FROM users WHERE guest AND deactivated_at IS NULL AND COALESCE(last_seen_at, created_at) < $1',
);

export function createUsersRepository(pool: Pool) {
  return {
    async deleteUser(userId: number, at: number): Promise<boolean> {
      return (await removeUser(pool, [userId, at])).rows.length > 0;
    },
    async inactiveGuests(before: number): Promise<number[]> {
      return (await inactiveGuests(pool, [before])).rows.map((r) => Number(r.id));
    },
    async touchUser(userId: number, at: number): Promise<void> {
      await touch(pool, [userId, at]);
    },
    async setDeactivated(userId: number, at: number | null): Promise<boolean> {
      return ((await deactivate(pool, [userId, at])).rowCount ?? 0) > 0;
    },
    async listUsers(filter: UserFilter): Promise<UserRecord[]> {
      const { rows } = await list(pool, [(filter.query ?? '').toLowerCase(), filter.guests ?? null, (filter.after ?? '').toLowerCase(), filter.limit]);
      return rows.map(toUser);
    },
    async setPasswordHash(userId: number, passwordHash: string): Promise<void> {
      await setPassword(pool, [userId, passwordHash]);
    },
    async setRole(username: string, role: InstanceRole): Promise<UserRoleChange> {
      const change = await inTransaction(pool, async (client): Promise<UserRoleChange> => {
        const adminIds = (await lockAdmins(client)).rows;
        const user = (await userByKey(client, [username.toLowerCase()])).rows[0];
        if (!user || user.guest) return 'no_user';
        if (user.role === role) return 'unchanged';
        if (role === 'user' && adminIds.length <= 1) return 'last_admin';
        await setRole(client, [user.id, role]);
        return 'changed';
      });
      return change!;
    },
    async listAdmins(): Promise<string[]> {
      return (await admins(pool)).rows.map((r) => r.username);
    },
    async create(username: string, passwordHash: string | null, guest: boolean): Promise<UserRecord> {
      const { rows } = await insertUser(pool, [username, username.toLowerCase(), passwordHash, guest, Date.now()]);
      if (!rows[0]) throw new ConflictError(`the username ${username} is taken`);
      return toUser(rows[0]);
    },
    async findByName(username: string): Promise<UserRecord | undefined> {
      const { rows } = await userByKey(pool, [username.toLowerCase()]);
      return rows[0] && toUser(rows[0]);
    },
  };
}

const insertSession = statement('sessions_insert', 'INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)');
const sessionUser = statement<UserRow>(
  'sessions_user',
  `SELECT ${USER_COLUMNS_U}
     FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deactivated_at IS NULL`,
);
const deleteSession = statement('sessions_delete', 'DELETE FROM sessions WHERE token_hash = $1');
const purgeSessions = statement('sessions_purge', 'DELETE FROM sessions WHERE expires_at <= $1');

const sessionsOf = statement<{ token_hash: string; created_at: number; expires_at: number }>(
  'sessions_of_user',
  'SELECT token_hash, created_at, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, token_hash',
);
const endOthers = statement<{ token_hash: string }>(
  'sessions_end_others',
  'DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 RETURNING token_hash',
);

export function createSessionsRepository(pool: Pool) {
  return {
    async listOf(userId: number, now: number): Promise<SessionRecord[]> {
      return (await sessionsOf(pool, [userId, now])).rows.map((r) => ({ tokenHash: r.token_hash, createdAt: r.created_at, expiresAt: r.expires_at }));
    },
    async removeAllOf(userId: number, keep?: string): Promise<string[]> {
      return (await endOthers(pool, [userId, keep ?? ''])).rows.map((r) => r.token_hash);
    },
    async create(tokenHash: string, userId: number, expiresAt: number): Promise<void> {
      await insertSession(pool, [tokenHash, userId, Date.now(), expiresAt]);
    },
    async findUser(tokenHash: string, now: number): Promise<UserRecord | undefined> {
      const { rows } = await sessionUser(pool, [tokenHash, now]);
      return rows[0] && toUser(rows[0]);
    },
    async remove(tokenHash: string): Promise<void> {
      await deleteSession(pool, [tokenHash]);
    },
    async purgeExpired(now: number): Promise<number> {
      return (await purgeSessions(pool, [now])).rowCount ?? 0;
    },
  };
}
