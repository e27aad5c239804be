import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/storage/postgres/postgres-store.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { ConflictError, type AppendResult, type ChatStore, type MessageRecord, type NewMessage, type SearchTerm } from '../src/storage/store.js';
import { tempDir } from './helpers/build.js';
import { until } from './delivery/support.js';
import { adminQuery, databaseUrl, dropSchema, freshSchemaName, postgresUnavailable } from './helpers/postgres.js';

/**
 * The ChatStore contract, run against each implementation directly: the same
 * cases, the same expected answers. A database is a fresh SQLite file or a
 * fresh PostgreSQL schema; `open()` gives one more store on it — another
 * server node, with a connection (pool) of its own.
 */
interface Database {
  open(): Promise<ChatStore>;
  /**
   * From now on the database itself fails every `operation` on `table` (a
   * trigger raising an error), to see what a store leaves when a statement
   * fails halfway through one of its operations.
   */
  refuse(operation: 'INSERT' | 'DELETE', table: 'room_members'): Promise<void>;
  destroy(): Promise<void>;
}

const REFUSED = 'refused by the test';

const postgresSkip = await postgresUnavailable();

const backends: Array<{ name: 'SQLite' | 'PostgreSQL'; skip: string | undefined; create(): Promise<Database> }> = [
  {
    name: 'SQLite',
    skip: undefined,
    async create() {
      const dir = await tempDir();
      const file = path.join(dir.path, 'chat.db');
      return {
        open: async () => openSqliteStore(file),
        async refuse(operation, table) {
          // A connection of its own: the stores' connections see the new schema at their next statement.
          const db = new BetterSqlite3(file);
          try {
            db.exec(`CREATE TRIGGER refuse_${operation}_${table} BEFORE ${operation} ON ${table} BEGIN SELECT RAISE(ABORT, '${REFUSED}'); END`);
          } finally {
            db.close();
          }
        },
        destroy: () => dir.remove(),
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresSkip,
    async create() {
      const schema = freshSchemaName();
      return {
        open: () => openPostgresStore(databaseUrl!, { schema, poolSize: 4 }),
        refuse: (operation, table) =>
          adminQuery(`
            CREATE FUNCTION ${schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${REFUSED}'; END $$;
            CREATE TRIGGER refuse_${operation}_${table} BEFORE ${operation} ON ${schema}.${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse();
          `),
        destroy: () => dropSchema(schema),
      };
    },
  },
];

const message = (roomId: string, authorId: number, clientMsgId: string, text = clientMsgId): NewMessage => ({
  roomId,
  authorId,
  text,
  clientMsgId,
  ts: 1_700_000_000_000,
});
const stored = (result: AppendResult | undefined) => {
  if (result?.status !== 'stored') throw new Error(`expected stored, got ${JSON.stringify(result)}`);
  return result.message;
};

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`the ${backend.name} store${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let database: Database;
    let store: ChatStore;
    const opened: ChatStore[] = [];
    /** One more store (node) on the same database, closed after the test. */
    const open = async () => {
      const s = await database.open();
      opened.push(s);
      return s;
    };
    beforeEach(async () => {
      database = await backend.create();
      store = await open();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await database.destroy();
    });

    /** A user and a public room, the usual start. */
    const aliceInGeneral = async () => {
      const alice = await store.createUser('alice', 'hash', false);
      await store.createRoom({ id: 'general', title: 'General', topic: '', private: false, createdBy: alice.id });
      await store.addMember('general', alice.id);
      return alice;
    };

    describe('users and sessions', () => {
      it('keeps usernames unique regardless of case, and finds them in any case', async () => {
        const alice = await store.createUser('Alice', 'hash', false);
        expect(alice).toEqual({ id: expect.any(Number), username: 'Alice', guest: false, passwordHash: 'hash', createdAt: expect.any(Number), role: 'user', lastSeenAt: null, deactivatedAt: null });
        await expect(Promise.resolve().then(() => store.createUser('ALICE', null, true))).rejects.toBeInstanceOf(ConflictError);
        expect(await store.findUserByName('aLiCe')).toEqual(alice);
        expect(await store.findUserByName('bob')).toBeUndefined();
        const guest = await store.createUser('bob', null, true);
        expect(guest).toMatchObject({ username: 'bob', guest: true, passwordHash: null });
        expect(guest.id).not.toBe(alice.id);
      });

      it('finds a session user until the session expires or is deleted', async () => {
        const alice = await store.createUser('alice', 'hash', false);
        await store.createSession('token-1', alice.id, 2000);
        expect(await store.findSessionUser('token-1', 1999)).toEqual(alice);
        expect(await store.findSessionUser('token-1', 2000)).toBeUndefined();
        expect(await store.findSessionUser('token-2', 0)).toBeUndefined();
        await store.deleteSession('token-1');
        expect(await store.findSessionUser('token-1', 0)).toBeUndefined();
      });

      it("lists a user's unexpired sessions newest first, ends all but one, and changes a password", async () => {
        const alice = await store.createUser('alice', 'hash', false);
        const bob = await store.createUser('bob', 'hash', false);
        await store.createSession('a-old', alice.id, 10_000);
        await new Promise((r) => setTimeout(r, 5));
        await store.createSession('a-new', alice.id, 20_000);
        await store.createSession('a-expired', alice.id, 50);
        await store.createSession('b-1', bob.id, 20_000);
        expect((await store.listSessions(alice.id, 100)).map((x) => x.tokenHash)).toEqual(['a-new', 'a-old']);
        expect((await store.listSessions(alice.id, 100))[0]).toEqual({ tokenHash: 'a-new', createdAt: expect.any(Number), expiresAt: 20_000 });
        expect((await store.deleteSessionsOf(alice.id, 'a-new')).sort()).toEqual(['a-expired', 'a-old']);
        expect((await store.listSessions(alice.id, 0)).map((x) => x.tokenHash)).toEqual(['a-new']);
        expect((await store.listSessions(bob.id, 0)).map((x) => x.tokenHash)).toEqual(['b-1']);
        expect(await store.deleteSessionsOf(alice.id)).toEqual(['a-new']);
        await store.setPasswordHash(alice.id, 'new-hash');
        expect((await store.findUserByName('alice'))!.passwordHash).toBe('new-hash');
        expect((await store.findUserByName('bob'))!.passwordHash).toBe('hash');
      });

      it('purges expired sessions when a store opens', async () => {
        const alice = await store.createUser('alice', 'hash', false);
        await store.createSession('expired', alice.id, Date.now() - 1);
        await store.createSession('valid', alice.id, Date.now() + 60_000);
        // Asked as of long ago, the expired session still answers: it has not been purged yet.
        expect(await store.findSessionUser('expired', 0)).toEqual(alice);
        const next = await open();
        expect(await next.findSessionUser('expired', 0)).toBeUndefined();
        expect(await next.findSessionUser('valid', 0)).toEqual(alice);
      });
    });

    describe('user management', () => {
      it('lists accounts by part of the name, pages and filters guests; notes when one was seen; deactivation hides its sessions', async () => {
        const anna = await store.createUser('anna', 'h', false);
        await store.createUser('Annabel', 'h', false);
        await store.createUser('bob', 'h', false);
        await store.createUser('guest-ann', null, true);
        const list = async (filter: Parameters<ChatStore['listUsers']>[0]) => (await store.listUsers(filter)).map((u) => u.username);
        expect(await list({ limit: 10 })).toEqual(['anna', 'Annabel', 'bob', 'guest-ann']);
        expect(await list({ query: 'ANN', limit: 10 })).toEqual(['anna', 'Annabel', 'guest-ann']);
        expect(await list({ query: 'ann', guests: false, limit: 1 })).toEqual(['anna']);
        expect(await list({ query: 'ann', guests: false, after: 'anna', limit: 5 })).toEqual(['Annabel']);
        expect(await list({ guests: true, limit: 5 })).toEqual(['guest-ann']);
        expect(await list({ query: '%', limit: 5 })).toEqual([]);
        await store.touchUser(anna.id, 1234);
        expect((await store.findUserByName('anna'))!.lastSeenAt).toBe(1234);
        await store.createSession('anna-1', anna.id, Date.now() + 60_000);
        expect(await store.setDeactivated(anna.id, 99)).toBe(true);
        expect((await store.findUserByName('anna'))!.deactivatedAt).toBe(99);
        expect(await store.findSessionUser('anna-1', 0)).toBeUndefined();
        expect(await store.setDeactivated(anna.id, null)).toBe(true);
        expect((await store.findSessionUser('anna-1', 0))!.username).toBe('anna');
        expect(await store.setDeactivated(anna.id + 1000, 1)).toBe(false);
      });
    });

    describe('account deletion', () => {
      it('renames to deleted-<id> and removes all but the messages, in one step; finds inactive guests', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', 'hash', false);
        const guest = await store.createUser('guest-1', null, true);
        await store.addMember('general', bob.id);
        await store.createSession('bob-1', bob.id, Date.now() + 60_000);
        const [m] = await store.appendMessages([{ ...message('general', bob.id, 'b1', '@alice hi'), mentions: [alice.id] }]);
        const stored = m?.status === 'stored' ? m.message : undefined;
        await store.addReaction('general', stored!.id, bob.id, '👍', 20, 1);
        expect(await store.deleteUser(bob.id, 77)).toBe(true);
        expect(await store.findUserByName('bob')).toBeUndefined();
        expect(await store.findUserByName(`deleted-${bob.id}`)).toMatchObject({ passwordHash: null, deactivatedAt: 77, role: 'user' });
        expect(await store.findSessionUser('bob-1', 0)).toBeUndefined();
        expect((await store.listMembers('general')).map((x) => x.username)).toEqual(['alice']);
        const kept = (await store.getMessage('general', stored!.id))!;
        expect([kept.author, kept.text, kept.reactions]).toEqual([`deleted-${bob.id}`, '@alice hi', []]);
        expect(await store.deleteUser(bob.id + 1000, 1)).toBe(false);
        await store.touchUser(guest.id, 10);
        expect(await store.inactiveGuests(11)).toEqual([guest.id]);
        expect(await store.inactiveGuests(10)).toEqual([]);
      });
    });

    describe('instance roles', () => {
      it('promotes and demotes, never the last admin nor a guest, and the session reads the role', async () => {
        const alice = await store.createUser('alice', 'hash', false);
        await store.createUser('bob', 'hash', false);
        await store.createUser('guest-gus', null, true);
        expect(await store.listAdmins()).toEqual([]);
        expect(await store.setUserRole('ALICE', 'admin')).toBe('changed');
        expect(await store.setUserRole('alice', 'admin')).toBe('unchanged');
        expect(await store.setUserRole('alice', 'user')).toBe('last_admin');
        expect(await store.setUserRole('nobody', 'admin')).toBe('no_user');
        expect(await store.setUserRole('guest-gus', 'admin')).toBe('no_user');
        await store.createSession('t-alice', alice.id, Date.now() + 60_000);
        expect((await store.findSessionUser('t-alice', 0))!.role).toBe('admin');
        expect(await store.setUserRole('bob', 'admin')).toBe('changed');
        expect(await store.listAdmins()).toEqual(['alice', 'bob']);
        expect(await store.setUserRole('alice', 'user')).toBe('changed');
        expect((await store.findSessionUser('t-alice', 0))!.role).toBe('user');
        expect(await store.setUserRole('bob', 'user')).toBe('last_admin');
        expect(await store.listAdmins()).toEqual(['bob']);
      });

      it('two admins demoting each other at once leave one admin', async () => {
        await store.createUser('ann', 'hash', false);
        await store.createUser('ben', 'hash', false);
        await store.setUserRole('ann', 'admin');
        await store.setUserRole('ben', 'admin');
        const other = await open();
        const results = await Promise.all([store.setUserRole('ann', 'user'), other.setUserRole('ben', 'user')]);
        expect(results.sort()).toEqual(['changed', 'last_admin']);
        expect(await store.listAdmins()).toHaveLength(1);
      });
    });

    describe('roles and direct conversations', () => {
      it('makes a room and its first members in one step, with roles, and reads a standing in one call', async () => {
        const alice = await store.createUser('alice', 'hash', false);
        const bob = await store.createUser('bob', null, true);
        await store.createRoom({
          id: 'team', title: 'Team', topic: '', private: true, createdBy: alice.id,
          members: [{ userId: alice.id, role: 'owner' }, { userId: bob.id, role: 'member' }],
        });
        expect((await store.listMembers('team')).map((m) => [m.username, m.role])).toEqual([['alice', 'owner'], ['bob', 'member']]);
        expect(await store.memberStanding('team', alice.id)).toEqual({ role: 'owner', banned: false });
        const carol = await store.createUser('carol', null, true);
        expect(await store.memberStanding('team', carol.id)).toEqual({ role: null, banned: false });
        await store.banMember('team', carol.id);
        expect(await store.memberStanding('team', carol.id)).toEqual({ role: null, banned: true });
        expect((await store.listRoomsForUser(alice.id)).find((r) => r.id === 'team')).toMatchObject({ role: 'owner', joined: true, kind: 'room' });
        // A join keeps the role a member has.
        await store.addMember('team', alice.id);
        expect((await store.memberStanding('team', alice.id)).role).toBe('owner');
      });

      it('sets roles, and transfers ownership only from the owner to a member, both rows at once', async () => {
        const alice = await store.createUser('alice', 'hash', false);
        const bob = await store.createUser('bob', null, true);
        const carol = await store.createUser('carol', null, true);
        await store.createRoom({ id: 'team', title: 'Team', topic: '', private: false, createdBy: alice.id, members: [{ userId: alice.id, role: 'owner' }] });
        await store.addMember('team', bob.id);
        expect(await store.setMemberRole('team', bob.id, 'moderator')).toBe(true);
        expect(await store.setMemberRole('team', carol.id, 'moderator')).toBe(false);
        expect((await store.memberStanding('team', bob.id)).role).toBe('moderator');
        // Not the owner, or not a member: nothing changes.
        expect(await store.transferOwnership('team', bob.id, alice.id)).toBe(false);
        expect(await store.transferOwnership('team', alice.id, carol.id)).toBe(false);
        expect(await store.transferOwnership('team', alice.id, alice.id)).toBe(false);
        expect((await store.listMembers('team')).map((m) => [m.username, m.role])).toEqual([['alice', 'owner'], ['bob', 'moderator']]);
        expect(await store.transferOwnership('team', alice.id, bob.id)).toBe(true);
        expect((await store.listMembers('team')).map((m) => [m.username, m.role])).toEqual([['alice', 'moderator'], ['bob', 'owner']]);
      });

      it('keeps one direct conversation per key: a second with the same key is refused and leaves no members behind', async () => {
        const alice = await store.createUser('alice', 'hash', false);
        const bob = await store.createUser('bob', null, true);
        const key = `${alice.id}:${bob.id}`;
        const members = [{ userId: alice.id, role: 'member' as const }, { userId: bob.id, role: 'member' as const }];
        const dm = await store.createRoom({ id: 'dm-1', kind: 'direct', directKey: key, title: '', topic: '', private: true, createdBy: alice.id, members });
        expect(dm.kind).toBe('direct');
        expect(await store.findDirectRoom(key)).toEqual(dm);
        expect(await store.findDirectRoom('1:999')).toBeUndefined();
        await expect(
          Promise.resolve().then(() =>
            store.createRoom({ id: 'dm-2', kind: 'direct', directKey: key, title: '', topic: '', private: true, createdBy: bob.id, members }),
          ),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getRoom('dm-2')).toBeUndefined();
        expect(await store.listMembers('dm-2')).toEqual([]);
        // Private: listed to its members only.
        const carol = await store.createUser('carol', null, true);
        expect((await store.listRoomsForUser(bob.id)).map((r) => r.id)).toEqual(['dm-1']);
        expect(await store.listRoomsForUser(carol.id)).toEqual([]);
      });
    });

    describe('invitations', () => {
      const privateRoom = async () => {
        const alice = await store.createUser('alice', 'hash', false);
        const bob = await store.createUser('bob', null, true);
        await store.createRoom({ id: 'team', title: 'Team', topic: '', private: true, createdBy: alice.id, members: [{ userId: alice.id, role: 'owner' }] });
        return { alice, bob };
      };

      it('invites a user once, lists it for them and the room, and an acceptance makes a member in the same step', async () => {
        const { alice, bob } = await privateRoom();
        const first = await store.createInvitation({ roomId: 'team', invitedBy: alice.id, userId: bob.id, expiresAt: null });
        expect(first).toEqual({
          id: expect.any(Number), roomId: 'team', roomTitle: 'Team', invitedBy: 'alice', invitedById: alice.id, userId: bob.id, username: 'bob',
          expiresAt: null, usesLeft: null, state: 'pending', createdAt: expect.any(Number),
        });
        // Inviting again is the same invitation.
        expect(await store.createInvitation({ roomId: 'team', invitedBy: alice.id, userId: bob.id, expiresAt: null })).toEqual(first);
        expect(await store.pendingInvitationsFor(bob.id, Date.now())).toEqual([first]);
        expect(await store.roomInvitations('team', Date.now())).toEqual([first]);
        // Only the invited user answers.
        expect(await store.answerInvitation(first.id, alice.id, 'accepted', Date.now())).toBe(false);
        expect(await store.answerInvitation(first.id, bob.id, 'accepted', Date.now())).toBe(true);
        expect((await store.memberStanding('team', bob.id)).role).toBe('member');
        expect(await store.getInvitation(first.id)).toMatchObject({ state: 'accepted' });
        expect(await store.answerInvitation(first.id, bob.id, 'declined', Date.now())).toBe(false);
        expect(await store.pendingInvitationsFor(bob.id, Date.now())).toEqual([]);
      });

      it('declines, revokes and expires without making anyone a member', async () => {
        const { alice, bob } = await privateRoom();
        const declined = await store.createInvitation({ roomId: 'team', invitedBy: alice.id, userId: bob.id, expiresAt: null });
        expect(await store.answerInvitation(declined.id, bob.id, 'declined', Date.now())).toBe(true);
        const revoked = await store.createInvitation({ roomId: 'team', invitedBy: alice.id, userId: bob.id, expiresAt: null });
        expect(revoked.id).not.toBe(declined.id);
        expect(await store.revokeInvitation(revoked.id)).toBe(true);
        expect(await store.revokeInvitation(revoked.id)).toBe(false);
        expect(await store.answerInvitation(revoked.id, bob.id, 'accepted', Date.now())).toBe(false);
        const expiring = await store.createInvitation({ roomId: 'team', invitedBy: alice.id, userId: bob.id, expiresAt: 5000 });
        expect(await store.pendingInvitationsFor(bob.id, 4999)).toHaveLength(1);
        expect(await store.pendingInvitationsFor(bob.id, 5000)).toEqual([]);
        expect(await store.answerInvitation(expiring.id, bob.id, 'accepted', 5000)).toBe(false);
        expect((await store.memberStanding('team', bob.id)).role).toBeNull();
      });

      it('lets a link in as many times as it has uses, until it expires, one use per member', async () => {
        const { alice, bob } = await privateRoom();
        const link = await store.createInvitation({ roomId: 'team', invitedBy: alice.id, tokenHash: 'h1', expiresAt: 10_000, uses: 2 });
        expect(link).toMatchObject({ userId: null, username: null, usesLeft: 2, expiresAt: 10_000 });
        expect(await store.findInvitationByToken('h1')).toEqual(link);
        expect(await store.findInvitationByToken('nope')).toBeUndefined();
        expect(await store.redeemInvitationLink('h1', bob.id, 9_999)).toBe('team');
        expect((await store.memberStanding('team', bob.id)).role).toBe('member');
        const carol = await store.createUser('carol', null, true);
        const dave = await store.createUser('dave', null, true);
        expect(await store.redeemInvitationLink('h1', carol.id, 10_000)).toBeUndefined(); // expired
        expect(await store.redeemInvitationLink('h1', carol.id, 1)).toBe('team');
        expect(await store.redeemInvitationLink('h1', dave.id, 1)).toBeUndefined(); // used up
        expect((await store.findInvitationByToken('h1'))!.usesLeft).toBe(0);
        expect((await store.memberStanding('team', dave.id)).role).toBeNull();
        // A room's invitations go with it.
        await store.deleteRoom('team');
        expect(await store.getInvitation(link.id)).toBeUndefined();
      });
    });

    describe('rooms', () => {
      it('creates, reads, lists in id order, updates and refuses a taken id', async () => {
        const alice = await store.createUser('alice', 'hash', false);
        const room = await store.createRoom({ id: 'ab', title: 'AB', topic: 'about', private: true, createdBy: alice.id });
        expect(room).toEqual({
          id: 'ab', kind: 'room', title: 'AB', topic: 'about', private: true, archived: false, lastSeq: 0, createdAt: expect.any(Number), createdBy: 'alice',
        });
        for (const id of ['b', 'a-b', 'a0']) await store.createRoom({ id, title: id, topic: '', private: false, createdBy: null });
        await expect(
          Promise.resolve().then(() => store.createRoom({ id: 'ab', title: 'again', topic: '', private: false, createdBy: null })),
        ).rejects.toBeInstanceOf(ConflictError);
        // Byte order, as SQLite sorts: '-' < '0' < 'a'.
        expect((await store.listRooms()).map((r) => r.id)).toEqual(['a-b', 'a0', 'ab', 'b']);
        expect(await store.getRoom('ab')).toEqual(room);
        expect(await store.getRoom('nope')).toBeUndefined();
        expect(await store.updateRoom('ab', { title: 'New', private: false, archived: true })).toEqual({
          ...room, title: 'New', private: false, archived: true,
        });
        expect(await store.updateRoom('ab', {})).toMatchObject({ title: 'New', topic: 'about' });
        expect(await store.updateRoom('nope', { title: 'x' })).toBeUndefined();
        expect((await store.getRoom('b'))!.createdBy).toBeNull();
      });

      it('keeps members (idempotently), their order by name, and bans', async () => {
        await aliceInGeneral();
        const alice = (await store.findUserByName('alice'))!;
        const bob = await store.createUser('Bob', null, true);
        const carol = await store.createUser('carol', null, true);
        await store.addMember('general', carol.id);
        await store.addMember('general', bob.id);
        await store.addMember('general', bob.id);
        expect(await store.listMembers('general')).toEqual([
          { userId: alice.id, username: 'alice', readSeq: 0, role: 'member' },
          { userId: bob.id, username: 'Bob', readSeq: 0, role: 'member' },
          { userId: carol.id, username: 'carol', readSeq: 0, role: 'member' },
        ]);
        expect(await store.isMember('general', bob.id)).toBe(true);
        expect(await store.removeMember('general', bob.id)).toBe(true);
        expect(await store.removeMember('general', bob.id)).toBe(false);
        expect(await store.isMember('general', bob.id)).toBe(false);

        expect(await store.isBanned('general', bob.id)).toBe(false);
        await store.addBan('general', bob.id);
        await store.addBan('general', bob.id);
        expect(await store.isBanned('general', bob.id)).toBe(true);
        expect(await store.removeBan('general', bob.id)).toBe(true);
        expect(await store.removeBan('general', bob.id)).toBe(false);
        expect(await store.isBanned('general', bob.id)).toBe(false);
      });

      it('lists members as they are after each change, when the list was read before it (a store may keep it)', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('Bob', null, true);
        const carol = await store.createUser('carol', null, true);
        const dave = await store.createUser('dave', null, true);
        const names = async () => (await store.listMembers('general')).map((m) => [m.username, m.readSeq, m.role]);
        expect(await names()).toEqual([['alice', 0, 'member']]);
        await store.addMember('general', dave.id);
        await store.addMember('general', bob.id);
        await store.addMember('general', bob.id);
        expect(await names()).toEqual([['alice', 0, 'member'], ['Bob', 0, 'member'], ['dave', 0, 'member']]);
        await store.appendMessages([message('general', alice.id, 'a1')]);
        await store.setReadCursor('general', bob.id, 1);
        expect(await names()).toEqual([['alice', 0, 'member'], ['Bob', 1, 'member'], ['dave', 0, 'member']]);
        await store.setMemberRole('general', dave.id, 'moderator');
        expect(await names()).toEqual([['alice', 0, 'member'], ['Bob', 1, 'member'], ['dave', 0, 'moderator']]);
        await store.removeMember('general', alice.id);
        expect(await names()).toEqual([['Bob', 1, 'member'], ['dave', 0, 'moderator']]);
        await store.banMember('general', bob.id);
        expect(await names()).toEqual([['dave', 0, 'moderator']]);
        await store.admitMember('general', carol.id);
        expect(await names()).toEqual([['carol', 0, 'member'], ['dave', 0, 'moderator']]);
        await store.admitMember('general', bob.id);
        expect((await names()).map(([name]) => name)).toEqual(['Bob', 'carol', 'dave']);
        await store.deleteUser(dave.id, 1);
        expect((await names()).map(([name]) => name)).toEqual(['Bob', 'carol']);
      });

      it('bans a member in one step: banned, no longer a member, and answers whether they were one', async () => {
        await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        const carol = await store.createUser('carol', null, true);
        await store.addMember('general', bob.id);
        expect(await store.banMember('general', bob.id)).toBe(true);
        expect(await store.isBanned('general', bob.id)).toBe(true);
        expect(await store.isMember('general', bob.id)).toBe(false);
        expect((await store.listMembers('general')).map((m) => m.username)).toEqual(['alice']);
        // Again: no error, and no longer a member.
        expect(await store.banMember('general', bob.id)).toBe(false);
        expect(await store.isBanned('general', bob.id)).toBe(true);
        // Someone who never joined is banned all the same.
        expect(await store.banMember('general', carol.id)).toBe(false);
        expect(await store.isBanned('general', carol.id)).toBe(true);
        expect((await store.listMembers('general')).map((m) => m.username)).toEqual(['alice']);
      });

      it('admits a banned user in one step: the ban lifted, a member, and a member again keeps their cursor', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        await store.addMember('general', bob.id);
        await store.banMember('general', bob.id);
        await store.admitMember('general', bob.id);
        expect(await store.isBanned('general', bob.id)).toBe(false);
        expect(await store.isMember('general', bob.id)).toBe(true);
        await store.appendMessages([message('general', alice.id, 'a1'), message('general', alice.id, 'a2')]);
        await store.setReadCursor('general', bob.id, 2);
        await store.admitMember('general', bob.id);
        expect(await store.listMembers('general')).toEqual([
          { userId: alice.id, username: 'alice', readSeq: 0, role: 'member' },
          { userId: bob.id, username: 'bob', readSeq: 2, role: 'member' },
        ]);
        // Not banned before: admitted all the same.
        const carol = await store.createUser('carol', null, true);
        await store.admitMember('general', carol.id);
        expect(await store.isMember('general', carol.id)).toBe(true);
      });

      it('bans and admits no one in a room that is gone, without a foreign-key error', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        expect(await store.banMember('nowhere', bob.id)).toBe(false);
        await store.admitMember('nowhere', alice.id);
        // Deleted meanwhile, with a member in it.
        await store.deleteRoom('general');
        expect(await store.banMember('general', alice.id)).toBe(false);
        await store.admitMember('general', bob.id);
        // Nothing was left behind for a room of the same id to inherit.
        for (const id of ['nowhere', 'general']) {
          await store.createRoom({ id, title: id, topic: '', private: false, createdBy: null });
          expect(await store.listMembers(id)).toEqual([]);
          for (const user of [alice, bob]) expect(await store.isBanned(id, user.id)).toBe(false);
        }
      });

      it('bans all or nothing: a membership that cannot be removed leaves no ban', async () => {
        await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        await store.addMember('general', bob.id);
        await database.refuse('DELETE', 'room_members');
        await expect(Promise.resolve().then(() => store.banMember('general', bob.id))).rejects.toThrow(REFUSED);
        expect(await store.isBanned('general', bob.id)).toBe(false);
        expect(await store.isMember('general', bob.id)).toBe(true);
      });

      it('admits all or nothing: a membership that cannot be added leaves the ban', async () => {
        await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        await store.banMember('general', bob.id);
        await database.refuse('INSERT', 'room_members');
        await expect(Promise.resolve().then(() => store.admitMember('general', bob.id))).rejects.toThrow(REFUSED);
        expect(await store.isBanned('general', bob.id)).toBe(true);
        expect(await store.isMember('general', bob.id)).toBe(false);
      });

      it('lists for a user: public rooms and their own, without bans, with unread counts', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        await store.addMember('general', bob.id);
        for (const [id, flags] of [
          ['hidden', { private: true }],
          ['secret', { private: true }],
          ['old', { archived: true }],
          ['banned', {}],
          ['lobby', {}],
        ] as const) {
          await store.createRoom({ id, title: id, topic: '', private: false, createdBy: null });
          await store.updateRoom(id, flags);
        }
        await store.addMember('secret', alice.id);
        await store.addBan('banned', alice.id);
        await store.appendMessages([
          message('general', bob.id, 'b1'),
          message('general', alice.id, 'a1'),
          message('general', bob.id, 'b2'),
          message('general', bob.id, 'b3'),
          message('lobby', bob.id, 'l1'),
        ]);
        await store.setReadCursor('general', alice.id, 1);
        const b3 = (await store.messagesAfter('general', 3, 1))[0]!;
        await store.deleteMessage('general', b3.id, 5);

        const rooms = await store.listRoomsForUser(alice.id);
        expect(rooms.map((r) => [r.id, r.joined, r.unread])).toEqual([
          // general: b2 is unread; b1 was read, a1 is her own, b3 is deleted.
          ['general', true, 1],
          // lobby: public, not joined: no count.
          ['lobby', false, 0],
          ['secret', true, 0],
        ]);
        expect(rooms[0]).toMatchObject({ title: 'General', lastSeq: 4, private: false, archived: false, createdBy: 'alice' });
      });

      it('moves a read cursor forward only, never past the last message, and says where it is', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        await store.appendMessages([message('general', alice.id, 'a1'), message('general', alice.id, 'a2'), message('general', alice.id, 'a3')]);
        expect(await store.setReadCursor('general', alice.id, 2)).toBe(2);
        expect(await store.setReadCursor('general', alice.id, 1)).toBe(2);
        expect(await store.setReadCursor('general', alice.id, 99)).toBe(3);
        expect((await store.listMembers('general'))[0]!.readSeq).toBe(3);
        // Not a member: nothing to move.
        expect(await store.setReadCursor('general', bob.id, 2)).toBe(0);
      });

      it('deletes a room with its messages, members and bans; the id can then start over', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        await store.addBan('general', bob.id);
        const [first] = await store.appendMessages([message('general', alice.id, 'm1'), message('general', alice.id, 'm2')]);
        expect(await store.deleteRoom('general')).toBe(true);
        expect(await store.deleteRoom('general')).toBe(false);
        expect(await store.getRoom('general')).toBeUndefined();
        expect(await store.getMessage('general', stored(first).id)).toBeUndefined();
        expect(await store.appendMessages([message('general', alice.id, 'm3')])).toEqual([{ status: 'room_gone' }]);

        await store.createRoom({ id: 'general', title: 'Again', topic: '', private: false, createdBy: null });
        expect(await store.listMembers('general')).toEqual([]);
        expect(await store.isBanned('general', bob.id)).toBe(false);
        expect(await store.messagesAfter('general', 0, 100)).toEqual([]);
        // The old messages went with the room, so their clientMsgIds are free again.
        const [again] = await store.appendMessages([message('general', alice.id, 'm1')]);
        expect(stored(again)).toMatchObject({ seq: 1, clientMsgId: 'm1' });
      });
    });

    describe('messages', () => {
      it('numbers each room 1, 2, 3 … in batch order and answers in batch order', async () => {
        const alice = await aliceInGeneral();
        await store.createRoom({ id: 'random', title: 'Random', topic: '', private: false, createdBy: null });
        const results = await store.appendMessages([
          message('general', alice.id, 'g1', 'hello'),
          message('random', alice.id, 'r1'),
          message('general', alice.id, 'g2'),
          message('nowhere', alice.id, 'n1'),
          message('general', alice.id, 'g3'),
        ]);
        expect(results.map((r) => r.status)).toEqual(['stored', 'stored', 'stored', 'room_gone', 'stored']);
        expect(results.flatMap((r) => (r.status === 'stored' ? [[r.message.roomId, r.message.seq]] : []))).toEqual([
          ['general', 1], ['random', 1], ['general', 2], ['general', 3],
        ]);
        expect(stored(results[0])).toEqual({
          id: expect.any(Number), roomId: 'general', seq: 1, authorId: alice.id, author: 'alice', text: 'hello', clientMsgId: 'g1',
          ts: 1_700_000_000_000, editedAt: null, deletedAt: null, replyTo: null, replies: 0, reactions: [], pinnedAt: null,
        });
        expect((await store.getRoom('general'))!.lastSeq).toBe(3);
        expect(await store.getMessage('general', stored(results[0]).id)).toEqual(stored(results[0]));
        expect(await store.getMessage('random', stored(results[0]).id)).toBeUndefined();
        expect(await store.appendMessages([])).toEqual([]);
      });

      it('stores a clientMsgId once per author: in the same batch, a later batch, or another room', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', null, true);
        await store.createRoom({ id: 'random', title: 'Random', topic: '', private: false, createdBy: null });
        const [first, again, bobs] = await store.appendMessages([
          message('general', alice.id, 'same', 'first'),
          message('general', alice.id, 'same', 'second'),
          message('general', bob.id, 'same', 'bob'),
        ]);
        expect(again).toEqual({ status: 'duplicate', message: stored(first) });
        expect(stored(bobs).seq).toBe(2);
        // A re-send in a later batch, and the same id sent to another room, both answer the stored message.
        expect(await store.appendMessages([message('general', alice.id, 'same', 'third'), message('random', alice.id, 'same')])).toEqual([
          { status: 'duplicate', message: stored(first) },
          { status: 'duplicate', message: stored(first) },
        ]);
        // A duplicate takes no seq.
        expect(stored((await store.appendMessages([message('general', alice.id, 'next')]))[0]).seq).toBe(3);
        expect((await store.getRoom('random'))!.lastSeq).toBe(0);
        // An id first sent to a room that is gone is still free for a room that exists.
        expect((await store.appendMessages([message('nowhere', alice.id, 'later'), message('random', alice.id, 'later')])).map((r) => r.status)).toEqual([
          'room_gone', 'stored',
        ]);
      });

      it('pages after a seq (oldest first) and before one (newest first)', async () => {
        const alice = await aliceInGeneral();
        await store.appendMessages(Array.from({ length: 10 }, (_, i) => message('general', alice.id, `m${i + 1}`)));
        const seqs = (messages: Array<{ seq: number }>) => messages.map((m) => m.seq);
        expect(seqs(await store.messagesAfter('general', 3, 4))).toEqual([4, 5, 6, 7]);
        expect(seqs(await store.messagesAfter('general', 8, 100))).toEqual([9, 10]);
        expect(seqs(await store.messagesAfter('general', 10, 100))).toEqual([]);
        expect(seqs(await store.messagesBefore('general', undefined, 3))).toEqual([10, 9, 8]);
        expect(seqs(await store.messagesBefore('general', 4, 100))).toEqual([3, 2, 1]);
        expect(seqs(await store.messagesBefore('general', 1, 100))).toEqual([]);
        expect(await store.messagesAfter('nowhere', 0, 10)).toEqual([]);
        expect((await store.messagesAfter('general', 0, 1))[0]).toMatchObject({ author: 'alice', text: 'm1' });
      });

      it('edits and deletes a message in its room only, and not once it is deleted', async () => {
        const alice = await aliceInGeneral();
        const original = stored((await store.appendMessages([message('general', alice.id, 'm1', 'hello')]))[0]);
        expect(await store.editMessage('general', original.id, 'hello, edited', 2000)).toEqual({ ...original, text: 'hello, edited', editedAt: 2000 });
        expect(await store.editMessage('random', original.id, 'x', 2001)).toBeUndefined();
        expect(await store.editMessage('general', original.id + 1000, 'x', 2001)).toBeUndefined();
        expect(await store.deleteMessage('general', original.id, 3000)).toEqual({ ...original, text: '', editedAt: 2000, deletedAt: 3000 });
        expect(await store.deleteMessage('general', original.id, 3001)).toBeUndefined();
        expect(await store.editMessage('general', original.id, 'back', 4000)).toBeUndefined();
        // It keeps its place.
        expect(await store.messagesAfter('general', 0, 10)).toEqual([{ ...original, text: '', editedAt: 2000, deletedAt: 3000 }]);
      });

      it('stores a message holding U+0000 without failing the rest of its batch', async () => {
        const alice = await aliceInGeneral();
        const [odd, plain] = await store.appendMessages([message('general', alice.id, 'nul\u0000id', 'a\u0000b'), message('general', alice.id, 'plain')]);
        // PostgreSQL text cannot hold U+0000: it is stored as U+FFFD there.
        const kept = backend.name === 'SQLite' ? '\u0000' : '\uFFFD';
        expect(stored(odd)).toMatchObject({ seq: 1, text: `a${kept}b`, clientMsgId: `nul${kept}id` });
        expect(stored(plain).seq).toBe(2);
        // And a re-send of it is recognised.
        expect((await store.appendMessages([message('general', alice.id, 'nul\u0000id', 'a\u0000b')]))[0]!.status).toBe('duplicate');
      });

      it('attaches an upload to one message only: a second one naming it is refused whole, a re-send of the first is its duplicate', async () => {
        const alice = await aliceInGeneral();
        const file = (id: string) => ({ id, name: `${id}.txt`, size: 5, contentType: 'text/plain', width: null, height: null, thumbnail: false });
        for (const id of ['F'.repeat(22), 'G'.repeat(22)]) {
          const record = { ...file(id), roomId: 'general', uploaderId: alice.id, messageId: null, createdAt: 1 };
          expect(await store.createAttachment(record, 1_000_000)).toBe('stored');
        }
        const withFiles = (clientMsgId: string, ...ids: string[]) => ({ ...message('general', alice.id, clientMsgId), attachments: ids.map(file) });
        // In one batch, and (as from another node) in a later one; the refused take no seq and leave no row.
        const [first, rival] = await store.appendMessages([withFiles('m1', 'F'.repeat(22)), withFiles('m2', 'G'.repeat(22), 'F'.repeat(22))]);
        expect(stored(first).attachments).toEqual([file('F'.repeat(22))]);
        expect(rival).toEqual({ status: 'files_taken' });
        const [later, resent, free] = await store.appendMessages([
          withFiles('m3', 'F'.repeat(22)),
          withFiles('m1', 'F'.repeat(22)),
          withFiles('m4', 'G'.repeat(22)),
        ]);
        expect(later).toEqual({ status: 'files_taken' });
        expect(resent).toEqual({ status: 'duplicate', message: stored(first) });
        expect(stored(free)).toMatchObject({ seq: 2, attachments: [file('G'.repeat(22))] });
        const history = await store.messagesAfter('general', 0, 10);
        expect(history.map((m) => [m.clientMsgId, m.attachments?.map((a) => a.id)])).toEqual([
          ['m1', ['F'.repeat(22)]],
          ['m4', ['G'.repeat(22)]],
        ]);
        expect(await store.getAttachment('G'.repeat(22))).toMatchObject({ messageId: stored(free).id });
      });
    });

    describe('replies, reactions, pins and mentions', () => {
      /** alice, bob (members of general) and carol (not in it); one message by alice. */
      const three = async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', 'hash', false);
        const carol = await store.createUser('carol', 'hash', false);
        await store.addMember('general', bob.id);
        const first = stored((await store.appendMessages([message('general', alice.id, 'q1', 'the question')]))[0]);
        return { alice, bob, carol, first };
      };
      const quoteOf = (m: { id: number; seq: number; author: string; text: string }) => ({
        id: m.id,
        seq: m.seq,
        author: m.author,
        text: m.text,
        deleted: false,
      });

      it('keeps a reply with its quote, counts replies on the parent, and lists a thread in pages', async () => {
        const { alice, bob, first } = await three();
        const replies = await store.appendMessages([
          { ...message('general', bob.id, 'a1', 'answer one'), replyTo: quoteOf(first) },
          message('general', alice.id, 'x1', 'unrelated'),
          { ...message('general', alice.id, 'a2', 'answer two'), replyTo: quoteOf(first) },
        ]);
        expect(stored(replies[0]).replyTo).toEqual({ id: first.id, seq: 1, author: 'alice', text: 'the question', deleted: false });
        const history = await store.messagesAfter('general', 0, 10);
        expect(history.map((m) => [m.text, m.replies, m.replyTo?.id ?? null])).toEqual([
          ['the question', 2, null],
          ['answer one', 0, first.id],
          ['unrelated', 0, null],
          ['answer two', 0, first.id],
        ]);
        expect((await store.repliesTo('general', first.id, 0, 10)).map((m) => m.text)).toEqual(['answer one', 'answer two']);
        expect((await store.repliesTo('general', first.id, 0, 1)).map((m) => m.text)).toEqual(['answer one']);
        expect((await store.repliesTo('general', first.id, 2, 10)).map((m) => m.text)).toEqual(['answer two']);
        // A deleted reply leaves the count; a deleted parent shows as deleted in its replies' quotes.
        await store.deleteMessage('general', stored(replies[0]).id, 5);
        expect((await store.getMessage('general', first.id))!.replies).toBe(1);
        await store.deleteMessage('general', first.id, 6);
        expect((await store.getMessage('general', stored(replies[2]).id))!.replyTo).toEqual({
          id: first.id,
          seq: 1,
          author: 'alice',
          text: '',
          deleted: true,
        });
        // A re-sent reply is the same message, quote and all.
        const again = await store.appendMessages([{ ...message('general', alice.id, 'a2', 'answer two'), replyTo: quoteOf(first) }]);
        expect(again[0]).toMatchObject({ status: 'duplicate', message: { id: stored(replies[2]).id, replyTo: { id: first.id } } });
      });

      it('quotes only the start of a long parent', async () => {
        const alice = await aliceInGeneral();
        const long = '😀'.repeat(150) + 'x'.repeat(300);
        const parent = stored((await store.appendMessages([message('general', alice.id, 'p', long)]))[0]);
        const reply = stored((await store.appendMessages([{ ...message('general', alice.id, 'r', 'hm'), replyTo: quoteOf(parent) }]))[0]);
        const read = (await store.getMessage('general', reply.id))!;
        expect(Array.from(read.replyTo!.text)).toHaveLength(200);
        expect(read.replyTo!.text.startsWith('😀'.repeat(150))).toBe(true);
      });

      it('adds one reaction per user and emoji, groups them first-come, removes them, and bounds distinct emoji', async () => {
        const { alice, bob, first } = await three();
        expect(await store.addReaction('general', first.id, bob.id, '👍', 3, 10)).toEqual({ status: 'changed', count: 1 });
        expect(await store.addReaction('general', first.id, bob.id, '👍', 3, 11)).toEqual({ status: 'unchanged', count: 1 });
        expect(await store.addReaction('general', first.id, alice.id, '👍', 3, 12)).toEqual({ status: 'changed', count: 2 });
        expect(await store.addReaction('general', first.id, alice.id, ':tada:', 3, 13)).toEqual({ status: 'changed', count: 1 });
        expect((await store.getMessage('general', first.id))!.reactions).toEqual([
          { emoji: '👍', users: ['bob', 'alice'] },
          { emoji: ':tada:', users: ['alice'] },
        ]);
        expect((await store.messagesBefore('general', undefined, 5))[0]!.reactions).toHaveLength(2);
        expect(await store.addReaction('general', first.id, bob.id, '🎉', 3, 14)).toEqual({ status: 'changed', count: 1 });
        // Three distinct: a fourth is refused, one more of an existing one is not.
        expect(await store.addReaction('general', first.id, bob.id, '😮', 3, 15)).toEqual({ status: 'too_many' });
        expect(await store.addReaction('general', first.id, bob.id, ':tada:', 3, 16)).toEqual({ status: 'changed', count: 2 });
        expect(await store.removeReaction('general', first.id, bob.id, '👍')).toEqual({ status: 'changed', count: 1 });
        expect(await store.removeReaction('general', first.id, bob.id, '👍')).toEqual({ status: 'unchanged', count: 1 });
        // Not in this room, no such message: nothing written.
        expect(await store.addReaction('elsewhere', first.id, bob.id, '👍', 3, 17)).toEqual({ status: 'no_message' });
        expect(await store.addReaction('general', first.id + 100, bob.id, '👍', 3, 17)).toEqual({ status: 'no_message' });
        // Deleting the message takes its reactions, and it takes no new ones.
        const deleted = await store.deleteMessage('general', first.id, 20);
        expect(deleted!.reactions).toEqual([]);
        expect((await store.getMessage('general', first.id))!.reactions).toEqual([]);
        expect(await store.addReaction('general', first.id, bob.id, '👍', 3, 21)).toEqual({ status: 'no_message' });
        expect(await store.removeReaction('general', first.id, alice.id, '👍')).toEqual({ status: 'no_message' });
      });

      it('pins and unpins, lists the latest pin first, and a deletion unpins', async () => {
        const { alice, first } = await three();
        const second = stored((await store.appendMessages([message('general', alice.id, 'q2', 'second')]))[0]);
        expect((await store.setPinned('general', first.id, 100))!.pinnedAt).toBe(100);
        expect((await store.setPinned('general', second.id, 200))!.pinnedAt).toBe(200);
        expect((await store.pinnedMessages('general')).map((m) => m.text)).toEqual(['second', 'the question']);
        expect((await store.setPinned('general', second.id, null))!.pinnedAt).toBeNull();
        expect((await store.pinnedMessages('general')).map((m) => m.text)).toEqual(['the question']);
        expect(await store.setPinned('elsewhere', first.id, 300)).toBeUndefined();
        await store.deleteMessage('general', first.id, 400);
        expect(await store.pinnedMessages('general')).toEqual([]);
        expect(await store.setPinned('general', first.id, 500)).toBeUndefined();
      });

      it('counts mentions past the read cursor in the room list, and a deletion takes its mentions', async () => {
        const { alice, bob, carol } = await three();
        const batch = await store.appendMessages([
          { ...message('general', alice.id, 'm1', '@bob look'), mentions: [bob.id] },
          { ...message('general', alice.id, 'm2', '@bob again'), mentions: [bob.id] },
          message('general', alice.id, 'm3', 'no one'),
        ]);
        const bobsRoom = async () => (await store.listRoomsForUser(bob.id)).find((r) => r.id === 'general')!;
        expect(await bobsRoom()).toMatchObject({ unread: 4, mentions: 2 });
        expect((await store.listRoomsForUser(alice.id)).find((r) => r.id === 'general')).toMatchObject({ mentions: 0 });
        // Read up to the first mention: one left.
        await store.setReadCursor('general', bob.id, stored(batch[0]).seq);
        expect((await bobsRoom()).mentions).toBe(1);
        await store.deleteMessage('general', stored(batch[1]).id, 9);
        expect((await bobsRoom()).mentions).toBe(0);
        // Names to members, in any case; carol is not in the room.
        expect((await store.membersNamed('general', ['BOB', 'carol', 'nobody'])).map((m) => [m.userId, m.username])).toEqual([
          [bob.id, 'bob'],
        ]);
        expect(await store.membersNamed('general', [])).toEqual([]);
        expect(carol.id).toBeGreaterThan(0);
      });

      it('deleting a room takes its reactions and mentions with it', async () => {
        const { alice, bob, first } = await three();
        await store.addReaction('general', first.id, bob.id, '👍', 20, 1);
        await store.appendMessages([{ ...message('general', alice.id, 'm1', '@bob'), mentions: [bob.id] }]);
        expect(await store.deleteRoom('general')).toBe(true);
        await store.createRoom({ id: 'general', title: 'General again', topic: '', private: false, createdBy: alice.id });
        await store.addMember('general', bob.id);
        const again = stored((await store.appendMessages([message('general', alice.id, 'n1', 'fresh')]))[0]);
        expect(again.seq).toBe(1);
        expect((await store.getMessage('general', again.id))!.reactions).toEqual([]);
        expect((await store.listRoomsForUser(bob.id)).find((r) => r.id === 'general')).toMatchObject({ mentions: 0 });
      });
    });

    describe('search', () => {
      /** Waits for SQLite's indexer to have moved every new message into the index (PostgreSQL indexes in the insert). */
      const searchIndexed = async (s: ChatStore) => {
        if (!('db' in s)) return;
        const db = (s as unknown as { db: import('better-sqlite3').Database }).db;
        await until('the search backlog to be indexed', () => db.prepare('SELECT COUNT(*) FROM search_backlog').pluck().get() === 0, 5000);
      };
      const word = (w: string, prefix = false) => ({ words: [w], prefix });
      const texts = (found: MessageRecord[]) => found.map((m) => m.text);

      it('finds words, prefixes and phrases in any case and accent, newest first, in the rooms of the user only', async () => {
        const alice = await aliceInGeneral();
        const bob = await store.createUser('bob', 'hash', false);
        await store.createRoom({ id: 'secret', title: 'Secret', topic: '', private: true, createdBy: bob.id });
        await store.addMember('secret', bob.id);
        await store.appendMessages([
          message('general', alice.id, 'g1', 'The DEPLOYMENT went fine'),
          message('general', alice.id, 'g2', 'deploy the app, then the café'),
          message('secret', bob.id, 's1', 'deploy the secret app'),
          message('general', alice.id, 'g3', 'Ελληνικά και ΣΊΣΥΦΟΣ, Straße, ｆｕｌｌ width'),
        ]);
        const mine = (terms: SearchTerm[], limit = 10) => store.searchMessages({ terms, scope: { userId: alice.id }, limit });
        // SQLite answers first from its backlog (messages not indexed yet), then from the FTS5 index.
        await finds();
        await searchIndexed(store);
        await finds();
        async function finds() {
          expect(texts(await mine([word('deplo', true)]))).toEqual(['deploy the app, then the café', 'The DEPLOYMENT went fine']);
          expect(texts(await mine([word('deploy')]))).toEqual(['deploy the app, then the café']);
          expect(texts(await mine([{ words: ['the', 'app'], prefix: false }]))).toEqual(['deploy the app, then the café']);
          expect(texts(await mine([{ words: ['app', 'the'], prefix: false }]))).toEqual([]);
          expect(texts(await mine([word('cafe'), word('deplo', true)]))).toEqual(['deploy the app, then the café']);
          for (const w of ['σισυφοσ', 'ελληνικα', 'strasse', 'full']) expect(texts(await mine([word(w)]))).toHaveLength(1);
          expect(texts(await mine([word('secret')]))).toEqual([]);
          // Bob finds his private room; one room's scope finds only there.
          expect(texts(await store.searchMessages({ terms: [word('deplo', true)], scope: { userId: bob.id }, limit: 10 }))).toEqual([
            'deploy the secret app',
          ]);
          expect(texts(await store.searchMessages({ terms: [word('app')], scope: { roomId: 'general' }, limit: 10 }))).toEqual([
            'deploy the app, then the café',
          ]);
          // Paging by id.
          const [newest] = await mine([word('deplo', true)], 1);
          expect(texts(await store.searchMessages({ terms: [word('deplo', true)], scope: { userId: alice.id }, before: newest!.id, limit: 10 }))).toEqual(
            ['The DEPLOYMENT went fine'],
          );
        }
      });

      it('keeps the index in step with edits, deletions and a deleted room', async () => {
        const alice = await aliceInGeneral();
        const [a, b] = (await store.appendMessages([message('general', alice.id, 'e1', 'old words'), message('general', alice.id, 'e2', 'other words')])).map(stored);
        const find = async (w: string) => texts(await store.searchMessages({ terms: [word(w)], scope: { userId: alice.id }, limit: 10 }));
        await store.editMessage('general', a!.id, 'new text', 5);
        expect(await find('old')).toEqual([]);
        expect(await find('new')).toEqual(['new text']);
        await store.deleteMessage('general', b!.id, 6);
        expect(await find('other')).toEqual([]);
        expect(await find('words')).toEqual([]);
        // Pinning changes no text: the message stays found.
        await store.setPinned('general', a!.id, 7);
        expect(await find('new')).toEqual(['new text']);
        await store.deleteRoom('general');
        await store.createRoom({ id: 'general', title: 'General again', topic: '', private: false, createdBy: alice.id });
        await store.addMember('general', alice.id);
        expect(await find('new')).toEqual([]);
      });
    });

    describe('several nodes on one database', () => {
      it('open a new database at once: one migrates, the others find it done', async () => {
        // The beforeEach store migrated this database; four more open a second, empty one together.
        const second = await backend.create();
        try {
          const nodes = await Promise.all([1, 2, 3, 4].map(() => second.open()));
          try {
            const alice = await nodes[0]!.createUser('alice', null, true);
            expect(await nodes[3]!.findUserByName('alice')).toEqual(alice);
          } finally {
            for (const node of nodes) await node.close();
          }
        } finally {
          await second.destroy();
        }
      });

      it('number a room gaplessly while four of them append to it at once, re-sends included', async () => {
        const nodes = [store, await open(), await open(), await open()];
        const authors = [await store.createUser('alice', null, true), await store.createUser('bob', null, true)];
        for (const id of ['busy', 'other']) await store.createRoom({ id, title: id, topic: '', private: false, createdBy: null });

        const perNode = 250;
        const sent = (node: number, i: number) => message('busy', authors[node % 2]!.id, `n${node}-${i}`);
        // Each node sends its own 250 messages in batches of varying size, one batch at a
        // time as the MessageWriter does, and with them re-sends of another node's messages:
        // to the same room, or (the same key) to another room.
        const batchesOf = (node: number): NewMessage[][] => {
          const own = Array.from({ length: perNode }, (_, i) => sent(node, i));
          const sizes = [1, 7, 32, 3, 64, 13, 2, 50];
          const batches: NewMessage[][] = [];
          for (let at = 0, b = 0; at < own.length; b++) {
            const batch = own.slice(at, at + sizes[b % sizes.length]!);
            at += batch.length;
            const peer = (node + 1) % nodes.length;
            const resent = batch.flatMap((m) => {
              const i = Number(m.clientMsgId.split('-')[1]);
              return [...(i % 10 === 0 ? [sent(peer, i)] : []), ...(i % 25 === 5 ? [{ ...sent(peer, i), roomId: 'other' }] : [])];
            });
            batches.push([...batch, ...resent]);
          }
          return batches;
        };
        const answers = await Promise.all(
          nodes.map(async (node, n) => {
            const all: Array<{ sent: NewMessage; result: AppendResult }> = [];
            for (const batch of batchesOf(n)) {
              const results = await node.appendMessages(batch);
              expect(results).toHaveLength(batch.length);
              // Within a batch, a room's new messages get increasing seqs in batch order.
              const seqsIn = (room: string) => results.flatMap((r) => (r.status === 'stored' && r.message.roomId === room ? [r.message.seq] : []));
              for (const room of ['busy', 'other']) expect(seqsIn(room)).toEqual([...seqsIn(room)].sort((a, b) => a - b));
              batch.forEach((m, i) => {
                all.push({ sent: m, result: results[i]! });
              });
            }
            return all;
          }),
        );

        // Every answer is the one stored row of its key, whichever node stored it.
        const byKey = new Map<string, { id: number; roomId: string; seq: number }>();
        let storedCount = 0;
        for (const { sent: m, result } of answers.flat()) {
          expect(result.status).not.toBe('room_gone');
          if (result.status === 'room_gone') continue;
          if (result.status === 'stored') storedCount++;
          expect(result.message).toMatchObject({ authorId: m.authorId, clientMsgId: m.clientMsgId });
          const key = `${m.authorId}/${m.clientMsgId}`;
          const seen = byKey.get(key);
          if (seen) expect({ id: result.message.id, roomId: result.message.roomId, seq: result.message.seq }).toEqual(seen);
          else byKey.set(key, { id: result.message.id, roomId: result.message.roomId, seq: result.message.seq });
        }
        expect(byKey.size).toBe(nodes.length * perNode);
        expect(storedCount).toBe(byKey.size);

        // The rooms: 1..N with no gap and no repeat, each key once, the counter at N.
        const rows = [...(await store.messagesAfter('busy', 0, 10_000)), ...(await store.messagesAfter('other', 0, 10_000))];
        for (const room of ['busy', 'other']) {
          const seqs = rows.filter((r) => r.roomId === room).map((r) => r.seq);
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
          expect((await nodes[2]!.getRoom(room))!.lastSeq).toBe(seqs.length);
        }
        expect(rows).toHaveLength(byKey.size);
        expect(new Set(rows.map((r) => `${r.authorId}/${r.clientMsgId}`))).toEqual(new Set(byKey.keys()));
        for (const row of rows) expect(byKey.get(`${row.authorId}/${row.clientMsgId}`)).toEqual({ id: row.id, roomId: row.roomId, seq: row.seq });
      });
    });

    it('answers ping while open', async () => {
      expect(await store.ping()).toBe(true);
    });
  });
}

describe.skipIf(postgresSkip !== undefined)(`the PostgreSQL store under races${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`, () => {
  // Other nodes are played by hand, each on a connection of its own, so that a test
  // can hold a lock or an uncommitted row exactly where it wants the store to meet it.
  let schema: string;
  let store: ChatStore;
  let alice: { id: number };
  let other: Node;
  let third: Node;
  let gate: Node;
  let watcher: pg.Client;
  interface Node {
    client: pg.Client;
    /** Its backend's pid, asked up front: a client whose statement waits answers nothing else. */
    pid: number;
  }
  const node = async (): Promise<Node> => {
    const client = new pg.Client({ connectionString: databaseUrl!, options: `-c search_path=${schema}` });
    await client.connect();
    return { client, pid: (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid };
  };
  beforeEach(async () => {
    schema = freshSchemaName();
    store = await openPostgresStore(databaseUrl!, { schema, poolSize: 2 });
    [other, third, gate] = [await node(), await node(), await node()];
    watcher = new pg.Client({ connectionString: databaseUrl! });
    await watcher.connect();
    alice = await store.createUser('alice', null, true);
    for (const id of ['general', 'random']) await store.createRoom({ id, title: id, topic: '', private: false, createdBy: null });
  });
  afterEach(async () => {
    for (const n of [other, third, gate]) await n.client.end();
    await watcher.end();
    await store.close();
    await dropSchema(schema);
  });

  /** Polls `condition` until it holds (10 s at most). */
  const until = async (what: string, condition: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 400; i++) {
      if (await condition()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting until ${what}`);
  };
  /** Whether some statement waits for a lock `n` holds. */
  const blocks = async (n: Node) =>
    (await watcher.query('SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))', [n.pid])).rows.length > 0;
  /** Whether `n`'s statement waits for a lock. */
  const waits = async (n: Node) => (await watcher.query('SELECT 1 WHERE cardinality(pg_blocking_pids($1::int)) > 0', [n.pid])).rows.length > 0;
  /** Another node's message in `random` (at a seq the test picks), not committed until the caller says so. */
  const theirs = (n: Node, key: string, seq: number) =>
    n.client.query(
      `INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at) VALUES ('random', $1, $2, 'theirs', $3, 1)`,
      [seq, alice.id, key],
    );
  const settled = <T>(promise: Promise<T>) => promise.then(() => 'done' as const, (err: { code?: string }) => err.code ?? 'error');

  it('answers duplicate, using no seq, when another node stores the same key in another room mid-batch', async () => {
    // The other node has stored 'k' in random but not committed yet: our duplicate lookup cannot see it.
    await other.client.query('BEGIN');
    await theirs(other, 'k', 1);
    await other.client.query("UPDATE rooms SET last_seq = 1 WHERE id = 'random'");
    const appending = Promise.resolve(store.appendMessages([message('general', alice.id, 'k', 'ours'), message('general', alice.id, 'k2')]));
    await until('the batch waits for the other node', () => blocks(other));
    await other.client.query('COMMIT');

    const [k, k2] = await appending;
    expect(k).toEqual({ status: 'duplicate', message: expect.objectContaining({ roomId: 'random', seq: 1, text: 'theirs' }) });
    expect(stored(k2)).toMatchObject({ roomId: 'general', seq: 1, clientMsgId: 'k2' });
    expect((await store.getRoom('general'))!.lastSeq).toBe(1);
    expect((await store.messagesAfter('general', 0, 10)).map((m) => [m.seq, m.clientMsgId])).toEqual([[1, 'k2']]);
  });

  it('stores the batch after all when the other node rolls back the key it held', async () => {
    await other.client.query('BEGIN');
    await theirs(other, 'k', 1);
    const appending = Promise.resolve(store.appendMessages([message('general', alice.id, 'k', 'ours'), message('general', alice.id, 'k2')]));
    await until('the batch waits for the other node', () => blocks(other));
    await other.client.query('ROLLBACK');

    expect((await appending).map((r) => r.status === 'stored' && [r.message.seq, r.message.text])).toEqual([
      [1, 'ours'],
      [2, 'k2'],
    ]);
  });

  it('answers duplicate when a third node stores one of its keys while the batch is redone one by one', async () => {
    // Wanted: the redo's lookup runs while the third node's 'a' is uncommitted, so the redo's
    // insert of 'a' waits for it and then finds it taken. When our first attempt rolls back,
    // the third node's waiting insert, a fourth node (the gate) queued for the room, and our
    // redo race; each outcome is checked, and a round that missed the wanted one is done again.
    let exercised = false;
    for (let round = 0; round < 10 && !exercised; round++) {
      const [a, z] = [`a${round}`, `z${round}`];
      const lastSeq = (await store.getRoom('general'))!.lastSeq;
      // The other node holds 'z'. Our one-statement insert writes 'a' (keys go in sorted), then waits for 'z'.
      await other.client.query('BEGIN');
      await theirs(other, z, 2 * round + 1);
      const appending = Promise.resolve(store.appendMessages([message('general', alice.id, a), message('general', alice.id, z)]));
      await until('the batch waits for the other node', () => blocks(other));
      // The third node tries 'a' and waits for ours; the gate queues for the room.
      await third.client.query('BEGIN');
      const thirdInsert = settled(theirs(third, a, 2 * round + 2));
      await until('the third node waits', () => waits(third));
      await gate.client.query('BEGIN');
      let gateHasRoom = false;
      const gateLock = gate.client.query("SELECT 1 FROM rooms WHERE id = 'general' FOR NO KEY UPDATE").then(() => (gateHasRoom = true));
      await until('the gate waits', () => waits(gate));
      // 'z' commits: our attempt comes up short and rolls back.
      await other.client.query('COMMIT');

      if ((await thirdInsert) === 'done') {
        // The third node's 'a' is in, uncommitted. Either the gate holds the room (the redo waits
        // behind it, its lookup still to come) or the redo's insert of 'a' already waits for the third node.
        await until('the gate holds the room or the redo waits for the third node', async () => gateHasRoom || (await blocks(third)));
        if (gateHasRoom) {
          await gate.client.query('COMMIT');
          await until('the redo waits for the third node', () => blocks(third));
          await third.client.query('COMMIT');
        } else {
          await third.client.query('COMMIT');
          await gateLock;
          await gate.client.query('COMMIT');
        }
        const [ra, rz] = await appending;
        expect(ra).toEqual({ status: 'duplicate', message: expect.objectContaining({ roomId: 'random', clientMsgId: a, text: 'theirs' }) });
        expect(rz).toEqual({ status: 'duplicate', message: expect.objectContaining({ roomId: 'random', clientMsgId: z }) });
        expect((await store.getRoom('general'))!.lastSeq).toBe(lastSeq);
        exercised = true;
      } else {
        // The redo got the room and stored 'a' before the third node could: that node was refused.
        expect(await thirdInsert).toBe('23505');
        await third.client.query('ROLLBACK');
        const [ra, rz] = await appending;
        expect(stored(ra)).toMatchObject({ roomId: 'general', seq: lastSeq + 1, clientMsgId: a });
        expect(rz).toEqual({ status: 'duplicate', message: expect.objectContaining({ roomId: 'random', clientMsgId: z }) });
        await gateLock;
        await gate.client.query('COMMIT');
      }
    }
    expect(exercised).toBe(true);
    const seqs = (await store.messagesAfter('general', 0, 100)).map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('waits for a batch holding the room, then numbers after it', async () => {
    // The other node is mid-batch in the room: it holds the room's row and has taken seq 1.
    await other.client.query('BEGIN');
    await other.client.query("SELECT last_seq FROM rooms WHERE id = 'general' FOR NO KEY UPDATE");
    await other.client.query(
      "INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at) VALUES ('general', 1, $1, 'theirs', 'o1', 1)",
      [alice.id],
    );
    await other.client.query("UPDATE rooms SET last_seq = 1 WHERE id = 'general'");
    const appending = Promise.resolve(store.appendMessages([message('general', alice.id, 'mine')]));
    await until('the batch waits for the other node', () => blocks(other));
    await other.client.query('COMMIT');
    expect(stored((await appending)[0])).toMatchObject({ seq: 2, clientMsgId: 'mine' });
  });

  it('bans no one, and fails no foreign key, in a room another node is deleting', async () => {
    await store.addMember('general', alice.id);
    await other.client.query('BEGIN');
    await other.client.query("DELETE FROM rooms WHERE id = 'general'");
    const banning = Promise.resolve(store.banMember('general', alice.id));
    await until('the ban waits for the other node', () => blocks(other));
    await other.client.query('COMMIT');
    expect(await banning).toBe(false);
    await store.createRoom({ id: 'general', title: 'Again', topic: '', private: false, createdBy: null });
    expect(await store.isBanned('general', alice.id)).toBe(false);
  });

  it('admits no one, and fails no foreign key, in a room another node is deleting', async () => {
    await store.banMember('general', alice.id);
    await other.client.query('BEGIN');
    await other.client.query("DELETE FROM rooms WHERE id = 'general'");
    const admitting = Promise.resolve(store.admitMember('general', alice.id));
    await until('the admission waits for the other node', () => blocks(other));
    await other.client.query('COMMIT');
    await admitting;
    await store.createRoom({ id: 'general', title: 'Again', topic: '', private: false, createdBy: null });
    expect(await store.isMember('general', alice.id)).toBe(false);
  });

  it('refuses a schema name it would have to quote, and says which URL it cannot reach, without its password', async () => {
    await expect(openPostgresStore(databaseUrl!, { schema: 'Robert"); DROP TABLE users; --' })).rejects.toThrow(/invalid schema name/);
    await expect(openPostgresStore('mysql://x@y/z')).rejects.toThrow(/not a PostgreSQL URL/);
    const unreachable = openPostgresStore('postgres://chat:s3cret@127.0.0.1:1/chat');
    await expect(unreachable).rejects.toThrow(/^PostgreSQL at postgres:\/\/chat:\*\*\*@127\.0\.0\.1:1\/chat: /);
    await expect(unreachable).rejects.not.toThrow(/s3cret/);
  });

  it('answers ping false once closed', async () => {
    await store.close();
    expect(await store.ping()).toBe(false);
  });
});
