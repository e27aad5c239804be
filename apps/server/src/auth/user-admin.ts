import { DomainError } from '../domain-error.js';
import type { ChatStore, UserFilter, UserRecord } from '../storage/store.js';
import { isCommonPassword } from './common-passwords.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** An account as the admin API shows it (never its password hash). */
export interface AdminUserView {
  id: number;
  username: string;
  guest: boolean;
  admin: boolean;
  createdAt: number;
  lastSeenAt: number | null;
  deactivated: boolean;
}

export const toAdminUser = (u: UserRecord): AdminUserView => ({
  id: u.id,
  username: u.username,
  guest: u.guest,
  admin: u.role === 'admin',
  createdAt: u.createdAt,
  lastSeenAt: u.lastSeenAt,
  deactivated: u.deactivatedAt !== null,
});

/** What ending sessions and connections takes, on every node (the transport does it). */
export interface SessionCloser {
  /** 4001 for these sessions' sockets. */
  sessions(hashes: readonly string[]): Promise<void>;
  /** 4003 for every socket of the user. */
  user(userId: number): Promise<void>;
}

/**
 * The admin's user management: find accounts, look one up, deactivate and
 * reactivate, reset a password. Deactivation ends every session of the
 * account (it signs in again once reactivated) and closes its sockets with
 * 4003 on every node; an admin is demoted before they can be deactivated, so
 * the instance never locks itself out.
 */
export class UserAdministration {
  constructor(
    private readonly store: ChatStore,
    private readonly close: SessionCloser,
  ) {}

  async list(filter: UserFilter): Promise<AdminUserView[]> {
    return (await this.store.listUsers(filter)).map(toAdminUser);
  }

  async view(username: string) {
    const user = await this.named(username);
    const [rooms, sessions] = await Promise.all([this.store.listRoomsForUser(user.id), this.store.listSessions(user.id, Date.now())]);
    return {
      user: toAdminUser(user),
      rooms: rooms.filter((r) => r.joined).map((r) => ({ id: r.id, kind: r.kind, role: r.role ?? 'member' })),
      sessions: sessions.map((s) => ({ createdAt: s.createdAt, expiresAt: s.expiresAt })),
    };
  }

  async deactivate(asker: { id: number } | 'token', username: string): Promise<void> {
    const user = await this.named(username);
    if (asker !== 'token' && asker.id === user.id) throw new DomainError('invalid_request', 'you cannot deactivate yourself');
    if (user.role === 'admin') throw new DomainError('conflict', `${user.username} is an admin: demote them first`);
    if (user.deactivatedAt !== null) return;
    await this.store.setDeactivated(user.id, Date.now());
    await this.store.deleteSessionsOf(user.id);
    await this.close.user(user.id);
  }

  async reactivate(username: string): Promise<void> {
    const user = await this.named(username);
    if (user.deactivatedAt !== null) await this.store.setDeactivated(user.id, null);
  }

  /**
   * Deletes an account (see `ChatStore.deleteUser`: its messages stay, under
   * `deleted-<id>`) and closes its sockets (4003) on every node. Admins are
   * demoted first; the admin API deletes others, `/api/me` one's own.
   */
  async delete(asker: { id: number } | 'token', username: string): Promise<void> {
    const user = await this.named(username);
    if (asker !== 'token' && asker.id === user.id) throw new DomainError('invalid_request', 'delete your own account with DELETE /api/me');
    await this.remove(user);
  }

  /** One's own account, confirmed with its password (a guest has none to give). */
  async deleteOwn(userId: number, username: string, password: string | undefined): Promise<void> {
    const user = await this.named(username);
    if (user.id !== userId) throw new DomainError('not_found', `no account ${username}`);
    if (user.passwordHash !== null && !(password !== undefined && (await verifyPassword(password, user.passwordHash)))) {
      throw new DomainError('forbidden', 'the password is wrong');
    }
    await this.remove(user);
  }

  /** Deletes guests not seen for `days` days; how many. */
  async purgeGuests(days: number): Promise<number> {
    const ids = await this.store.inactiveGuests(Date.now() - days * 24 * 3600 * 1000);
    for (const id of ids) {
      await this.store.deleteUser(id, Date.now());
      await this.close.user(id);
    }
    return ids.length;
  }

  private async remove(user: UserRecord): Promise<void> {
    if (user.role === 'admin') throw new DomainError('conflict', `${user.username} is an admin: demote them first`);
    if (!(await this.store.deleteUser(user.id, Date.now()))) throw new DomainError('not_found', `no account ${user.username}`);
    await this.close.user(user.id);
  }

  /** A new password set by an admin: every session of the account ends. */
  async resetPassword(username: string, password: string): Promise<void> {
    const user = await this.named(username);
    if (user.guest) throw new DomainError('invalid_request', 'a guest has no password');
    if (isCommonPassword(password)) throw new DomainError('invalid_request', 'this password is one of the most common ones: choose another');
    await this.store.setPasswordHash(user.id, await hashPassword(password));
    await this.close.sessions(await this.store.deleteSessionsOf(user.id));
  }

  private async named(username: string): Promise<UserRecord> {
    const user = await this.store.findUserByName(username);
    if (!user) throw new DomainError('not_found', `no account ${username}`);
    return user;
  }
}
