import { DomainError } from '../domain-error.js';
import { ConflictError, type ChatStore, type InstanceRole, type UserRecord } from '../storage/store.js';
import { isCommonPassword } from './common-passwords.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords.js';
import { createToken, hashToken } from './tokens.js';

export interface AuthUser {
  id: number;
  username: string;
  guest: boolean;
  /** An instance admin: may use the admin API with their session. */
  admin: boolean;
}

export interface Session {
  user: AuthUser;
  token: string;
}

/** Names a deleted account takes (`deleted-<id>`): nobody registers one. */
const RESERVED_PREFIX = 'deleted-';
function refuseReserved(username: string): void {
  if (username.toLowerCase().startsWith(RESERVED_PREFIX)) {
    throw new DomainError('invalid_request', `usernames beginning with ${RESERVED_PREFIX} are kept for deleted accounts`);
  }
}

/** Hex characters of a token's hash that name a session in lists (64 bits: no two of a user's collide). */
const SESSION_ID_CHARS = 16;

const toAuthUser = (u: UserRecord): AuthUser => ({ id: u.id, username: u.username, guest: u.guest, admin: u.role === 'admin' });

/** Accounts and sessions: register, log in, guest, log out, and resolving a token to its user. */
export function createAuthService(store: ChatStore, options: { sessionTtlMs: number; allowGuests: boolean }) {
  const open = async (user: UserRecord): Promise<Session> => {
    const token = createToken();
    const now = Date.now();
    await store.createSession(hashToken(token), user.id, now + options.sessionTtlMs);
    await store.touchUser(user.id, now);
    return { user: toAuthUser(user), token };
  };
  const create = async (username: string, passwordHash: string | null, guest: boolean) => {
    try {
      return await store.createUser(username, passwordHash, guest);
    } catch (err) {
      if (err instanceof ConflictError) throw new DomainError('conflict', 'this username is taken');
      throw err;
    }
  };

  return {
    async register(username: string, password: string): Promise<Session> {
      refuseReserved(username);
      if (isCommonPassword(password)) throw new DomainError('invalid_request', 'this password is one of the most common ones: choose another');
      if (await store.findUserByName(username)) throw new DomainError('conflict', 'this username is taken');
      return open(await create(username, await hashPassword(password), false));
    },

    async login(username: string, password: string): Promise<Session> {
      const user = await store.findUserByName(username);
      // Verify against a dummy hash for unknown users, so timing does not tell which names exist.
      const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
      if (!user || user.passwordHash === null || !ok) throw new DomainError('unauthorized', 'wrong username or password');
      // Said only to whoever knows the password.
      if (user.deactivatedAt !== null) throw new DomainError('forbidden', 'this account is deactivated: ask an admin');
      return open(user);
    },

    async guest(username: string): Promise<Session> {
      if (!options.allowGuests) throw new DomainError('forbidden', 'guest access is disabled');
      refuseReserved(username);
      return open(await create(username, null, true));
    },

    async logout(token: string): Promise<void> {
      await store.deleteSession(hashToken(token));
    },

    /**
     * Your password, when you give the current one; every other session of
     * yours ends (their hashes are returned, so their sockets can be closed).
     */
    async changePassword(user: AuthUser, currentToken: string, currentPassword: string, newPassword: string): Promise<string[]> {
      const record = await store.findUserByName(user.username);
      if (!record || record.passwordHash === null) throw new DomainError('forbidden', 'a guest has no password');
      if (!(await verifyPassword(currentPassword, record.passwordHash))) throw new DomainError('forbidden', 'the current password is wrong');
      if (isCommonPassword(newPassword)) throw new DomainError('invalid_request', 'this password is one of the most common ones: choose another');
      await store.setPasswordHash(user.id, await hashPassword(newPassword));
      return store.deleteSessionsOf(user.id, hashToken(currentToken));
    },

    /** Your unexpired sessions; `id` is a prefix of the token's hash, enough to name one and nothing to sign in with. */
    async sessions(user: AuthUser, currentToken: string): Promise<Array<{ id: string; createdAt: number; expiresAt: number; current: boolean }>> {
      const current = hashToken(currentToken);
      return (await store.listSessions(user.id, Date.now())).map((s) => ({
        id: s.tokenHash.slice(0, SESSION_ID_CHARS),
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        current: s.tokenHash === current,
      }));
    },

    /** Ends one of your sessions by its id; the hash ended. */
    async revokeSession(user: AuthUser, id: string): Promise<string> {
      const found = (await store.listSessions(user.id, Date.now())).find((s) => s.tokenHash.slice(0, SESSION_ID_CHARS) === id);
      if (!found) throw new DomainError('not_found', `no session ${id} of yours`);
      await store.deleteSession(found.tokenHash);
      return found.tokenHash;
    },

    /** An admin promotes or demotes an account; never the last admin, never a guest. */
    async setRole(username: string, role: InstanceRole): Promise<void> {
      const change = await store.setUserRole(username, role);
      if (change === 'no_user') throw new DomainError('not_found', `no account ${username} (guests have no instance role)`);
      if (change === 'last_admin') throw new DomainError('conflict', `${username} is the last admin: promote another first`);
    },

    admins: (): Promise<string[]> => Promise.resolve(store.listAdmins()),

    async authenticate(token: string | undefined): Promise<AuthUser | undefined> {
      if (!token || token.length > 200) return undefined;
      const user = await store.findSessionUser(hashToken(token), Date.now());
      return user && toAuthUser(user);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
