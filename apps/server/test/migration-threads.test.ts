/**
 * Step 4 (replies, reactions, pins, mentions) on a database that the
 * previous release filled: SQLite and PostgreSQL at schema 3 with users,
 * rooms with roles, members with read cursors, an edited and a deleted
 * message, opened by today's store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/storage/postgres/postgres-store.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../src/storage/store.js';
import { postgresSchemaAt, sqliteFileAt } from './helpers/older-database.js';
import { databaseUrl, postgresUnavailable } from './helpers/postgres.js';

// ann owns 'team' (bob a moderator in it); three messages, bob's edited, the third deleted: nothing unread for bob (read up to 1).
const VERSION_3_DATA = `
  INSERT INTO users (username, username_key, guest, created_at) VALUES ('ann', 'ann', false, 0), ('bob', 'bob', false, 0);
  INSERT INTO rooms (id, title, private, last_seq, created_by, created_at) VALUES ('team', 'Team', false, 3, 1, 0);
  INSERT INTO room_members (room_id, user_id, joined_at, read_seq, role) VALUES ('team', 1, 0, 3, 'owner'), ('team', 2, 0, 1, 'moderator');
  INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at, edited_at, deleted_at) VALUES
    ('team', 1, 1, 'one', 'k1', 1, NULL, NULL), ('team', 2, 2, 'two!', 'k2', 2, 5, NULL), ('team', 3, 1, '', 'k3', 3, NULL, 7);
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function checkUpgraded(store: ChatStore): Promise<void> {
  // Every message as it was, and none is a reply, reacted to or pinned.
  const history = await store.messagesAfter('team', 0, 10);
  expect(history.map((m) => [m.seq, m.author, m.text, m.editedAt, m.deletedAt])).toEqual([
    [1, 'ann', 'one', null, null],
    [2, 'bob', 'two!', 5, null],
    [3, 'ann', '', null, 7],
  ]);
  for (const m of history) expect([m.replyTo, m.replies, m.reactions, m.pinnedAt]).toEqual([null, 0, [], null]);
  const ann = (await store.findUserByName('ann'))!;
  const bob = (await store.findUserByName('bob'))!;
  expect((await store.listRoomsForUser(bob.id))[0]).toMatchObject({ id: 'team', unread: 0, mentions: 0, role: 'moderator' });

  // The new columns and tables work on the old rows.
  const [one, two] = history;
  const reply = await store.appendMessages([
    {
      roomId: 'team',
      authorId: bob.id,
      text: '@ann about one',
      clientMsgId: 'k4',
      ts: 10,
      replyTo: { id: one!.id, seq: 1, author: 'ann', text: 'one', deleted: false },
      mentions: [ann.id],
    },
  ]);
  expect(reply[0]).toMatchObject({ status: 'stored', message: { seq: 4, replyTo: { id: one!.id } } });
  expect((await store.getMessage('team', one!.id))!.replies).toBe(1);
  expect(await store.addReaction('team', two!.id, ann.id, '👍', 20, 11)).toEqual({ status: 'changed', count: 1 });
  expect((await store.setPinned('team', two!.id, 12))!.pinnedAt).toBe(12);
  expect((await store.pinnedMessages('team')).map((m) => m.seq)).toEqual([2]);
  expect((await store.listRoomsForUser(ann.id))[0]).toMatchObject({ unread: 1, mentions: 1 });
}

describe('migration 4 (replies, reactions, pins, mentions) on SQLite', () => {
  it('upgrades a filled version-3 file: nothing lost, the new features on the old messages', async () => {
    const file = await sqliteFileAt(3, VERSION_3_DATA, cleanups);
    const store = openSqliteStore(file, { synchronous: 'FULL' });
    cleanups.push(() => store.close());
    expect(store.db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(8);
    await checkUpgraded(store);
  });
});

const postgresSkip = await postgresUnavailable();

describe.skipIf(postgresSkip !== undefined)(`migration 4 on PostgreSQL${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`, () => {
  it('upgrades a filled version-3 schema: nothing lost, the new features on the old messages', async () => {
    const schema = await postgresSchemaAt(3, VERSION_3_DATA, cleanups);
    const store = await openPostgresStore(databaseUrl!, { schema, poolSize: 2 });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});
