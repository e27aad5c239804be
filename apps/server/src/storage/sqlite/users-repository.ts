import type { Database } from 'better-sqlite3';
import { ConflictError, type InstanceRole, type SessionRecord, type UserFilter, type UserRecord, type UserRoleChange } from '../store.js';
import { USER_COLUMNS, USER_COLUMNS_U, toUser, type UserRow } from '../user-row.js';

export function createUsersRepository(db: Database) {
  const insert = db.prepare<[string, string, string | null, number, number], UserRow>(
    `INSERT INTO users (username, username_key, password_hash, guest, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (username_key) DO NOTHING
     RETURNING ${USER_COLUMNS}`,
  );
  const byKey = db.prepare<[string], UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE username_key = ?`,
  );
  const admins = db.prepare<[], { username: string }>("SELECT username FROM users WHERE role = 'admin' ORDER BY username_key");
  const setRole = db.prepare<[InstanceRole, number]>('UPDATE users SET role = ? WHERE id = ?');
  // Read and written in one transaction: two admins demoting each other at once cannot both succeed.
  const changeRole = db.transaction((username: string, role: InstanceRole): UserRoleChange => {
    const user = byKey.get(username.toLowerCase());
    if (!user || user.guest === 1) return 'no_user';
    if (user.role === role) return 'unchanged';
    if (role === 'user' && admins.all().length <= 1) return 'last_admin';
    setRole.run(role, user.id);
    return 'changed';
  });
  const setPassword = db.prepare<[string, number]>('UPDATE users SET password_hash = ? WHERE id = ?');
  const touch = db.prepare<[number, number]>('UPDATE users SET last_seen_at = ? WHERE id = ?');
  const deactivate = db.prepare<[number | null, number]>('UPDATE users SET deactivated_at = ? WHERE id = ?');
  // instr() on the lower-cased key: a plain substring, no LIKE wildcards to escape.
  const list = db.prepare<[string, number, number, string, number], UserRow>(
    `SELECT ${USER_COLUMNS} FROM users
      WHERE instr(username_key, ?) > 0 AND (? = -1 OR guest = ?) AND username_key > ?
      ORDER BY username_key LIMIT CAST(? AS INTEGER)`,
  );
  const tombstone = db.prepare<[string, string, number, number]>(
    `UPDATE users SET username = ?, username_key = ?, password_hash = NULL, role = 'user', deactivated_at = COALESCE(deactivated_at, ?)
      WHERE id = ?`,
  );
  const cleanups = [
    'DELETE FROM sessions WHERE user_id = ?',
    'DELETE FROM room_members WHERE user_id = ?',
    'DELETE FROM room_bans WHERE user_id = ?',
    "DELETE FROM invitations WHERE user_id = ? AND state = 'pending'",
    'DELETE FROM reactions WHERE user_id = ?',
    'DELETE FROM mentions WHERE user_id = ?',
  ].map((sql) => db.prepare<[number]>(sql));
  const removeUser = db.transaction((userId: number, at: number): boolean => {
    const name = `deleted-${userId}`;
    if (tombstone.run(name, name, at, userId).changes === 0) return false;
    for (const statement of cleanups) statement.run(userId);
    return true;
  });
  const inactiveGuests = db.prepare<[number], { id: number }>(
    'SELECT id FROM users WHERE guest = 1 AND deactivated_at IS NULL AND COALESCE(last_seen_at, created_at) < ?',
  );
  return {
    deleteUser: (userId: number, at: number): boolean => removeUser(userId, at),
    inactiveGuests: (before: number): number[] => inactiveGuests.all(before).map((r) => r.id),
    touchUser(userId: number, at: number): void {
      touch.run(at, userId);
    },
    setDeactivated(userId: number, at: number | null): boolean {
      return deactivate.run(at, userId).changes > 0;
    },
    listUsers(filter: UserFilter): UserRecord[] {
      const guests = filter.guests === undefined ? -1 : filter.guests ? 1 : 0;
      return list
        .all((filter.query ?? '').toLowerCase(), guests, guests, (filter.after ?? '').toLowerCase(), filter.limit)
        .map(toUser);
    },
    setPasswordHash(userId: number, passwordHash: string): void {
      setPassword.run(passwordHash, userId);
    },
    setRole: (username: string, role: InstanceRole): UserRoleChange => changeRole.immediate(username, role),
    listAdmins: (): string[] => admins.all().map((r) => r.username),
    create(username: string, passwordHash: string | null, guest: boolean): UserRecord {
      const row = insert.get(username, username.toLowerCase(), passwordHash, guest ? 1 : 0, Date.now());
      if (!row) throw new ConflictError(`the username ${username} is taken`);
      return toUser(row);
    },
    findByName(username: string): UserRecord | undefined {
      const row = byKey.get(username.toLowerCase());
      return row && toUser(row);
    },
  };
}

export function createSessionsRepository(db: Database) {
  const insert = db.prepare('INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)');
  const find = db.prepare<[string, number], UserRow>(
    `SELECT ${USER_COLUMNS_U}
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ? AND s.expires_at > ? AND u.deactivated_at IS NULL`,
  );
  const remove = db.prepare('DELETE FROM sessions WHERE token_hash = ?');
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
  const ofUser = db.prepare<[number, number], { token_hash: string; created_at: number; expires_at: number }>(
    'SELECT token_hash, created_at, expires_at FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, token_hash',
  );
  const endOthers = db.prepare<[number, string], { token_hash: string }>(
    'DELETE FROM sessions WHERE user_id = ? AND token_hash <> ? RETURNING token_hash',
  );
  return {
    listOf(userId: number, now: number): SessionRecord[] {
      return ofUser.all(userId, now).map((r) => ({ tokenHash: r.token_hash, createdAt: r.created_at, expiresAt: r.expires_at }));
    },
    removeAllOf(userId: number, keep?: string): string[] {
      return endOthers.all(userId, keep ?? '').map((r) => r.token_hash);
    },
    create(tokenHash: string, userId: number, expiresAt: number): void {
      insert.run(tokenHash, userId, Date.now(), expiresAt);
    },
    findUser(tokenHash: string, now: number): UserRecord | undefined {
      const row = find.get(tokenHash, now);
      return row && toUser(row);
    },
    remove(tokenHash: string): void {
      remove.run(tokenHash);
    },
    purgeExpired(now: number): number {
      return purge.run(now).changes;
    },
  };
}
