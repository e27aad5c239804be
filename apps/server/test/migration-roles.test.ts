/**
 * Step 3 (room roles, direct conversations, invitations) on a database that
 * an older release filled: SQLite and PostgreSQL at schema 2 with users,
 * rooms, members, a ban and messages, opened by today's store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/storage/postgres/postgres-store.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../src/storage/store.js';
import { postgresSchemaAt, sqliteFileAt } from './helpers/older-database.js';
import { databaseUrl, postgresUnavailable } from './helpers/postgres.js';

// ann made 'team' and is in it, bob joined it; 'lobby' was made by the admin API (no creator); carol is banned from 'team'.
const VERSION_2_DATA = `
  INSERT INTO users (username, username_key, guest, created_at) VALUES ('ann', 'ann', false, 0), ('bob', 'bob', false, 0), ('carol', 'carol', false, 0);
  INSERT INTO rooms (id, title, private, last_seq, created_by, created_at) VALUES ('team', 'Team', true, 2, 1, 0), ('lobby', 'Lobby', false, 0, NULL, 0);
  INSERT INTO room_members (room_id, user_id, joined_at, read_seq) VALUES ('team', 1, 0, 2), ('team', 2, 0, 1), ('lobby', 2, 0, 0);
  INSERT INTO room_bans (room_id, user_id, created_at) VALUES ('team', 3, 0);
  INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at) VALUES ('team', 1, 1, 'one', 'k1', 1), ('team', 2, 2, 'two', 'k2', 2);
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function checkUpgraded(store: ChatStore): Promise<void> {
  // Everything that was there is there.
  expect((await store.messagesAfter('team', 0, 10)).map((m) => [m.seq, m.author, m.text])).toEqual([
    [1, 'ann', 'one'],
    [2, 'bob', 'two'],
  ]);
  expect((await store.listMembers('team')).map((m) => [m.username, m.readSeq, m.role])).toEqual([
    ['ann', 2, 'owner'],
    ['bob', 1, 'member'],
  ]);
  // A room without a creator has no owner; every old room is a room.
  expect((await store.listMembers('lobby')).map((m) => [m.username, m.role])).toEqual([['bob', 'member']]);
  expect((await store.listRooms()).map((r) => [r.id, r.kind])).toEqual([
    ['lobby', 'room'],
    ['team', 'room'],
  ]);
  const carol = (await store.findUserByName('carol'))!;
  expect(await store.memberStanding('team', carol.id)).toEqual({ role: null, banned: true });
  // And the new tables work on the old data.
  const bob = (await store.findUserByName('bob'))!;
  const ann = (await store.findUserByName('ann'))!;
  const invitation = await store.createInvitation({ roomId: 'lobby', invitedBy: bob.id, userId: ann.id, expiresAt: null });
  expect(await store.answerInvitation(invitation.id, ann.id, 'accepted', Date.now())).toBe(true);
  expect((await store.memberStanding('lobby', ann.id)).role).toBe('member');
  expect(await store.transferOwnership('team', ann.id, bob.id)).toBe(true);
}

describe('migration 3 (roles, direct conversations, invitations) on SQLite', () => {
  it('upgrades a filled version-2 file: creators own their rooms, nothing is lost', async () => {
    const file = await sqliteFileAt(2, VERSION_2_DATA, cleanups);
    const store = openSqliteStore(file, { synchronous: 'FULL' });
    cleanups.push(() => store.close());
    expect(store.db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(8);
    await checkUpgraded(store);
  });
});

const postgresSkip = await postgresUnavailable();

describe.skipIf(postgresSkip !== undefined)(`migration 3 on PostgreSQL${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`, () => {
  it('upgrades a filled version-2 schema: creators own their rooms, nothing is lost', async () => {
    const schema = await postgresSchemaAt(2, VERSION_2_DATA, cleanups);
    const store = await openPostgresStore(databaseUrl!, { schema, poolSize: 2 });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});
