/**
 * The SQLite search index holds exactly the live messages' words: what the
 * store writes beside each insert, edit, deletion and room deletion leaves no
 * row behind (a leftover would not show in search results, which join the
 * messages, but would grow the index for ever). New and edited messages wait
 * in the backlog (migration 10) until the indexer moves them: searchable
 * there at once, and indexed by themselves a moment later.
 */
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { ftsQuery, SEARCH_SQL, termsMatch } from '../src/storage/sqlite/search-repository.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { searchWords, type SearchTerm } from '../src/storage/store.js';
import { tempDir } from './helpers/build.js';
import { until } from './delivery/support.js';

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
  const backlog = () => store.db.prepare('SELECT COUNT(*) FROM search_backlog').pluck().get();
  const matching = (q: string) => store.db.prepare('SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?').pluck().get(q);
  const indexed = () => until('the indexer to empty the backlog', () => backlog() === 0, 5000);
  const found = async (word: string) =>
    (await store.searchMessages({ terms: [{ words: [word], prefix: false }], scope: { userId: alice.id }, limit: 100 })).map((m) => m.text);
  for (const id of ['one', 'two']) await store.addMember(id, alice.id);

  // Found the moment the append has returned, whether or not the indexer has run yet.
  expect(await found('number3')).toEqual(['alpha number3']);
  await indexed();
  expect(rows()).toBe(10);
  await store.editMessage('one', ids[0]!, 'beta now', 1);
  // Out of the index in the edit's own transaction: the old words are never found again.
  expect(matching('number0')).toBe(0);
  expect(await found('number0')).toEqual([]);
  expect(await found('beta')).toEqual(['beta now']);
  await indexed();
  expect(matching('beta')).toBe(1);
  await store.deleteMessage('one', ids[1]!, 2);
  expect(rows()).toBe(9);
  expect(await store.deleteRoom('two')).toBe(true);
  expect(rows()).toBe(5);
  expect(matching('alpha')).toBe(4);
});

it("reads the backlog from its own rows, never by walking the searched rooms' messages", async () => {
  // Left to the planner, the backlog's join ran the other way round — every message of every room
  // searched, each probed in the backlog: half a second per search over 1,000,000 messages.
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  const store = openSqliteStore(path.join(dir.path, 'chat.db'));
  cleanups.push(async () => store.close());
  const plan = (sql: string) =>
    store.db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...Array.from(sql.matchAll(/\?/g), () => 1))
      .map((row) => (row as { detail: string }).detail);
  for (const sql of [SEARCH_SQL.backlogInMemberRooms, SEARCH_SQL.backlogInRoom]) {
    const steps = plan(sql);
    expect(steps[0]).toMatch(/^SEARCH b USING INTEGER PRIMARY KEY/);
    expect(steps.some((s) => /^SEARCH m USING INTEGER PRIMARY KEY/.test(s))).toBe(true);
  }
  // And the index's statements start from the index, walked newest first.
  for (const sql of [SEARCH_SQL.inMemberRooms, SEARCH_SQL.inRoom]) expect(plan(sql)[0]).toMatch(/^SCAN f VIRTUAL TABLE/);
});

it("an index pass leaves the connection's synchronous level as it found it (messages stay durable)", async () => {
  // The pass itself commits without an fsync (it is derived data); the messages after it must not.
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    const store = openSqliteStore(path.join(dir.path, `${synchronous}.db`), { writerThread: false, synchronous });
    const alice = await store.createUser('alice', 'h', false);
    await store.createRoom({ id: 'one', title: 'one', topic: '', private: false, createdBy: alice.id });
    // More than a pass's threshold: the commit's afterCommit indexes them at once.
    await store.appendMessages(Array.from({ length: 300 }, (_, i) => ({ roomId: 'one', authorId: alice.id, text: `word${i}`, clientMsgId: `c${i}`, ts: i })));
    expect(store.db.prepare('SELECT COUNT(*) FROM search_backlog').pluck().get()).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) FROM messages_fts').pluck().get()).toBe(300);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(synchronous === 'FULL' ? 2 : 1);
    await store.close();
  }
});

it('never finds a message deleted while it waited in the backlog; a closed store leaves the index whole', async () => {
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  const file = path.join(dir.path, 'chat.db');
  let store = openSqliteStore(file);
  const alice = await store.createUser('alice', 'h', false);
  await store.createRoom({ id: 'one', title: 'one', topic: '', private: false, createdBy: alice.id });
  await store.addMember('one', alice.id);
  const results = await store.appendMessages(
    Array.from({ length: 300 }, (_, i) => ({ roomId: 'one', authorId: alice.id, text: `gamma item${i}`, clientMsgId: `c${i}`, ts: i })),
  );
  const last = results[299]!;
  if (last.status !== 'stored') throw new Error('not stored');
  await store.deleteMessage('one', last.message.id, 1);
  await store.close();
  store = openSqliteStore(file);
  cleanups.push(async () => store.close());
  const search = async (word: string, prefix = false) =>
    (await store.searchMessages({ terms: [{ words: [word], prefix }], scope: { roomId: 'one' }, limit: 100 })).map((m) => m.text);
  expect(await search('item298')).toEqual(['gamma item298']);
  expect(await search('item299')).toEqual([]);
  expect(await search('item29', true)).toHaveLength(10);
  await until('the backlog to be indexed', () => store.db.prepare('SELECT COUNT(*) FROM search_backlog').pluck().get() === 0, 5000);
  expect(store.db.prepare('SELECT COUNT(*) FROM messages_fts').pluck().get()).toBe(299);
  expect(await search('item29', true)).toHaveLength(10);
});

it('matches the backlog word by word exactly as FTS5 matches the index (random texts and queries)', () => {
  const db = new BetterSqlite3(':memory:');
  cleanups.push(async () => db.close());
  db.exec(`CREATE VIRTUAL TABLE f USING fts5(words, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')`);
  // A small vocabulary with shared beginnings, so prefixes and phrases hit and miss.
  const vocabulary = ['de', 'deploy', 'deployment', 'dé', 'app', 'apple', 'Straße', 'strasse', 'ΣΊΣΥΦΟΣ', '42', '4o', 'the', 'then', '東京'];
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const texts = Array.from({ length: 300 }, () => Array.from({ length: 1 + random(8) }, () => vocabulary[random(vocabulary.length)]).join(random(2) ? ' ' : ', '));
  const insert = db.prepare('INSERT INTO f (rowid, words) VALUES (?, ?)');
  for (const [i, text] of texts.entries()) insert.run(i + 1, searchWords(text).join(' '));
  const query = db.prepare<[string], { rowid: number }>('SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid');
  let hits = 0;
  for (let q = 0; q < 300; q++) {
    const terms: SearchTerm[] = Array.from({ length: 1 + random(2) }, () => ({
      words: Array.from({ length: 1 + random(2) }, () => searchWords(vocabulary[random(vocabulary.length)]!)[0]!),
      prefix: random(2) === 1,
    }));
    const byIndex = query.all(ftsQuery(terms)).map((r) => r.rowid);
    const byWords = texts.flatMap((text, i) => (termsMatch(searchWords(text), terms) ? [i + 1] : []));
    expect(byWords, JSON.stringify(terms)).toEqual(byIndex);
    hits += byIndex.length;
  }
  // The comparison meant something: the queries found messages.
  expect(hits).toBeGreaterThan(1000);
});
