/**
 * Upgrading a SQLite file written by an older release: a real file at schema
 * version 1, opened by today's store, which migrates it in place.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openConnection } from '../src/storage/sqlite/connection.js';
import { migrate } from '../src/storage/sqlite/migrations.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../src/storage/store.js';
import { tempDir } from './helpers/build.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** A database as release 1 left it: two authors, two rooms, messages with gaps in their ids. */
async function versionOneFile(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  const file = path.join(dir.path, 'chat.db');
  const db = openConnection(file, 'FULL');
  expect(migrate(db, 1)).toBe(1);
  db.exec(`
    INSERT INTO users (id, username, username_key, guest, created_at) VALUES (1, 'ann', 'ann', 1, 0), (2, 'bob', 'bob', 1, 0);
    INSERT INTO rooms (id, title, last_seq, created_at) VALUES ('a', 'A', 3, 0), ('b', 'B', 1, 0);
    INSERT INTO messages (id, room_id, seq, author_id, text, client_msg_id, created_at, edited_at, deleted_at) VALUES
      (10, 'a', 1, 1, 'one', 'k1', 100, NULL, NULL),
      (11, 'b', 1, 2, 'hello', 'k1', 101, NULL, NULL),
      (15, 'a', 2, 2, 'two, edited', 'k2', 102, 150, NULL),
      (16, 'a', 3, 1, '', 'k3', 103, NULL, 160);
  `);
  db.close();
  return file;
}

function open(file: string): ChatStore & { db: import('better-sqlite3').Database } {
  const store = openSqliteStore(file, { synchronous: 'FULL' });
  cleanups.push(() => store.close());
  return store;
}

describe('SQLite migration 2: the re-send key leads with client_msg_id', () => {
  it('keeps every message as it was: ids, seqs, authors, texts, edits and deletions', async () => {
    const store = open(await versionOneFile());
    const a = await store.messagesAfter('a', 0, 10);
    expect(a.map((m) => [m.id, m.seq, m.authorId, m.author, m.text, m.clientMsgId, m.ts, m.editedAt, m.deletedAt])).toEqual([
      [10, 1, 1, 'ann', 'one', 'k1', 100, null, null],
      [15, 2, 2, 'bob', 'two, edited', 'k2', 102, 150, null],
      [16, 3, 1, 'ann', '', 'k3', 103, null, 160],
    ]);
    expect((await store.messagesAfter('b', 0, 10)).map((m) => [m.id, m.seq, m.text])).toEqual([[11, 1, 'hello']]);
    const versions = store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('still refuses to store a re-sent message twice, and numbers new ones after the old', async () => {
    const store = open(await versionOneFile());
    const results = await store.appendMessages([
      // ann re-sends k1: the original answers.
      { roomId: 'a', authorId: 1, text: 'one again', clientMsgId: 'k1', ts: 200 },
      // bob's k1 is another message (the key is per author), as is ann's new k4.
      { roomId: 'a', authorId: 2, text: 'bob k1 in a', clientMsgId: 'k9', ts: 201 },
      { roomId: 'a', authorId: 1, text: 'four', clientMsgId: 'k4', ts: 202 },
    ]);
    expect(results[0]).toMatchObject({ status: 'duplicate', message: { id: 10, seq: 1, text: 'one' } });
    expect(results[1]).toMatchObject({ status: 'stored', message: { seq: 4, text: 'bob k1 in a' } });
    expect(results[2]).toMatchObject({ status: 'stored', message: { seq: 5, text: 'four' } });
    const newIds = results.slice(1).map((r) => (r.status === 'stored' ? r.message.id : 0));
    expect(Math.min(...newIds)).toBeGreaterThan(16);
    expect((await store.messagesAfter('a', 0, 10)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('leaves one unique index for re-sends, (client_msg_id, author_id), and the room index', async () => {
    const store = open(await versionOneFile());
    const unique = store.db
      .prepare("SELECT name FROM pragma_index_list('messages') WHERE \"unique\" = 1 ORDER BY name")
      .pluck()
      .all() as string[];
    const columns = unique.map((index) => store.db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').pluck().all(index));
    expect(columns).toEqual(expect.arrayContaining([['room_id', 'seq'], ['client_msg_id', 'author_id']]));
    expect(columns).toHaveLength(2);
  });

  it('is applied once: reopening the upgraded file migrates nothing and loses nothing', async () => {
    const file = await versionOneFile();
    const first = open(file);
    await first.appendMessages([{ roomId: 'b', authorId: 1, text: 'later', clientMsgId: 'z', ts: 300 }]);
    await first.close();
    cleanups.pop();
    const again = open(file);
    expect(again.db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(8);
    expect((await again.messagesAfter('b', 0, 10)).map((m) => m.text)).toEqual(['hello', 'later']);
  });
});
