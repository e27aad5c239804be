/**
 * The SQLite search index holds exactly the live messages' words: what the
 * store writes beside each insert, edit, deletion and room deletion leaves no
 * row behind (a leftover would not show in search results, which join the
 * messages, but would grow the index for ever).
 */
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { tempDir } from './helpers/build.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

it('keeps one index row per live message, with its current words', async () => {
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  const store = openSqliteStore(path.join(dir.path, 'chat.db'));
  cleanups.push(async () => store.close());
  const alice = await store.createUser('alice', 'h', false);
  for (const id of ['one', 'two']) await store.createRoom({ id, title: id, topic: '', private: false, createdBy: alice.id });
  const results = await store.appendMessages(
    Array.from({ length: 10 }, (_, i) => ({ roomId: i < 6 ? 'one' : 'two', authorId: alice.id, text: `alpha number${i}`, clientMsgId: `c${i}`, ts: i })),
  );
  const ids = results.map((r) => (r.status === 'stored' ? r.message.id : 0));
  const rows = () => store.db.prepare('SELECT COUNT(*) FROM messages_fts').pluck().get();
  const matching = (q: string) => store.db.prepare('SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?').pluck().get(q);
  expect(rows()).toBe(10);
  await store.editMessage('one', ids[0]!, 'beta now', 1);
  expect(matching('number0')).toBe(0);
  expect(matching('beta')).toBe(1);
  await store.deleteMessage('one', ids[1]!, 2);
  expect(rows()).toBe(9);
  expect(await store.deleteRoom('two')).toBe(true);
  expect(rows()).toBe(5);
  expect(matching('alpha')).toBe(4);
});
