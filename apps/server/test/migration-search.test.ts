/**
 * Step 8 (full-text search) on a database the previous release filled: SQLite
 * and PostgreSQL at schema 7 with messages in two rooms — one edited, one
 * deleted — opened by today's store. The old messages are found at once, the
 * deleted one never, and the index follows writes made after the upgrade.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/storage/postgres/postgres-store.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../src/storage/store.js';
import { postgresSchemaAt, sqliteFileAt } from './helpers/older-database.js';
import { databaseUrl, postgresUnavailable } from './helpers/postgres.js';
import { until } from './delivery/support.js';

/** The schema before search. */
const BEFORE = 7;

const FILLED = `
  INSERT INTO users (username, username_key, password_hash, guest, created_at) VALUES ('ann', 'ann', 'h', false, 0), ('bo', 'bo', 'h', false, 0);
  INSERT INTO rooms (id, title, private, last_seq, created_by, created_at) VALUES ('team', 'Team', false, 3, 1, 0), ('den', 'Den', true, 1, 2, 0);
  INSERT INTO room_members (room_id, user_id, joined_at, read_seq, role) VALUES ('team', 1, 0, 0, 'owner'), ('team', 2, 0, 0, 'member'), ('den', 2, 0, 0, 'owner');
  INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at, edited_at, deleted_at) VALUES
    ('team', 1, 1, 'The Déploiement is planned', 'k1', 1, NULL, NULL),
    ('team', 2, 2, 'edited: release notes', 'k2', 2, 3, NULL),
    ('team', 3, 1, '', 'k3', 3, NULL, 4),
    ('den', 1, 2, 'release in the den', 'k4', 4, NULL, NULL);
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function checkUpgraded(store: ChatStore): Promise<void> {
  const ann = (await store.findUserByName('ann'))!;
  const bo = (await store.findUserByName('bo'))!;
  const find = async (userId: number, words: string[], prefix = false) =>
    (await store.searchMessages({ terms: [{ words, prefix }], scope: { userId }, limit: 10 })).map((m) => m.text);
  expect(await find(ann.id, ['deploi'], true)).toEqual(['The Déploiement is planned']);
  expect(await find(ann.id, ['release'])).toEqual(['edited: release notes']);
  expect(await find(bo.id, ['release'])).toEqual(['release in the den', 'edited: release notes']);
  expect((await store.messagesAfter('team', 0, 10)).map((m) => m.text)).toEqual(['The Déploiement is planned', 'edited: release notes', '']);
  // Writes after the upgrade are indexed, edits and deletions followed.
  const [stored] = await store.appendMessages([{ roomId: 'team', authorId: ann.id, text: 'fresh release', clientMsgId: 'n1', ts: 9 }]);
  if (stored?.status !== 'stored') throw new Error('not stored');
  expect(stored.message.seq).toBe(4);
  expect(await find(ann.id, ['release'])).toEqual(['fresh release', 'edited: release notes']);
  await store.editMessage('team', stored.message.id, 'fresh start', 10);
  const old = (await store.messagesAfter('team', 0, 1))[0]!;
  await store.deleteMessage('team', old.id, 11);
  expect(await find(ann.id, ['release'])).toEqual(['edited: release notes']);
  expect(await find(ann.id, ['deploi'], true)).toEqual([]);
  expect(await find(ann.id, ['fresh'])).toEqual(['fresh start']);
}

describe('migration 8 (search) on SQLite', () => {
  it('indexes a filled version-7 file: old messages found, the deleted one not', async () => {
    const store = openSqliteStore(await sqliteFileAt(BEFORE, FILLED, cleanups), { synchronous: 'FULL' });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});

describe('migration 10 (the search backlog, SQLite only) on a filled version-9 file', () => {
  it('starts with an empty backlog, finds what the index held, and indexes what is written after', async () => {
    // At 9 the index holds the live messages, as migration 8 and the store of that release left it.
    const indexed = `${FILLED} INSERT INTO messages_fts (rowid, words) SELECT id, search_words(text) FROM messages WHERE deleted_at IS NULL;`;
    const store = openSqliteStore(await sqliteFileAt(9, indexed, cleanups), { synchronous: 'FULL' });
    cleanups.push(() => store.close());
    const count = (table: string) => store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get();
    expect(count('search_backlog')).toBe(0);
    expect(count('messages_fts')).toBe(3);
    await checkUpgraded(store);
    await until('the backlog to be indexed', () => count('search_backlog') === 0, 5000);
    // Ann's two messages after the upgrade: one deleted (gone), one edited; the index holds the live ones.
    expect(count('messages_fts')).toBe(3);
  });
});

const postgresSkip = await postgresUnavailable();

describe.skipIf(postgresSkip !== undefined)(`migration 8 on PostgreSQL${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`, () => {
  it('indexes a filled version-7 schema: old messages found, the deleted one not', async () => {
    const schema = await postgresSchemaAt(BEFORE, FILLED, cleanups);
    const store = await openPostgresStore(databaseUrl!, { schema, poolSize: 2 });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});
