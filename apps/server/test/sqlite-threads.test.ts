/**
 * The SQLite store's two helper threads: the writer (every write, chat
 * messages included, is committed off the event loop) and the checkpointer (the write-ahead log is
 * copied back into the database file by a thread of its own, never inside a
 * commit). Real files, real threads.
 */
import { existsSync, mkdtempSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageWriter } from '../src/chat/message-writer.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { ConflictError, type AppendResult, type ChatStore, type NewMessage } from '../src/storage/store.js';
import { tempDir } from './helpers/build.js';
import { until } from './delivery/support.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function fixture(): Promise<{ file: string; store: ChatStore; authorId: number }> {
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  const file = path.join(dir.path, 'chat.db');
  const store = openSqliteStore(file, { synchronous: 'FULL' });
  cleanups.push(() => store.close());
  const user = await store.createUser('writer', null, true);
  await store.createRoom({ id: 'lobby', title: 'Lobby', topic: '', private: false, createdBy: null });
  return { file, store, authorId: user.id };
}

const batchOf = (authorId: number, from: number, count: number): NewMessage[] =>
  Array.from({ length: count }, (_, i) => ({
    roomId: 'lobby',
    authorId,
    text: `message ${from + i} ${'x'.repeat(200)}`,
    clientMsgId: `c${from + i}`,
    ts: 1_700_000_000_000 + from + i,
  }));

/** Runs `body` as an ES module in a child process of its own, with `openSqliteStore` (compiled) in scope. */
function runWithStore(dir: string, body: string, env: Record<string, string> = {}) {
  const entry = path.join(dir, `script-${Date.now()}.mjs`);
  const store = new URL('../dist/storage/sqlite/sqlite-store.js', import.meta.url).href;
  writeFileSync(entry, `import { openSqliteStore } from ${JSON.stringify(store)};\n${body}\n`);
  return spawnSync(process.execPath, [entry], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
}

describe('the SQLite writer thread', () => {
  it('answers appends in call order with what the main connection then reads', async () => {
    const { store, authorId } = await fixture();
    expect(store.appendsInOrder).toBe(true);
    // Several batches handed over before the first is answered: seqs follow call order.
    const pending = [0, 1, 2, 3].map((k) => store.appendMessages(batchOf(authorId, k * 50, 50)));
    const results = (await Promise.all(pending)).flat() as AppendResult[];
    expect(results.map((r) => (r.status === 'stored' ? r.message.seq : -1))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(results.every((r) => r.status === 'stored' && r.message.author === 'writer')).toBe(true);
    // Committed before the answer: the main thread's own connection sees all of it at once.
    const stored = await store.messagesAfter('lobby', 0, 1000);
    expect(stored.map((m) => m.clientMsgId)).toEqual(Array.from({ length: 200 }, (_, i) => `c${i}`));
    expect((await store.getRoom('lobby'))!.lastSeq).toBe(200);
    // A re-sent message is answered with the original, without a new seq.
    const [again] = await store.appendMessages(batchOf(authorId, 7, 1));
    expect(again).toMatchObject({ status: 'duplicate', message: { seq: 8, clientMsgId: 'c7' } });
    expect((await store.getRoom('lobby'))!.lastSeq).toBe(200);
  });

  it('commits batches queued together, and a refused batch fails alone', async () => {
    const { store, authorId } = await fixture();
    // A large batch keeps the thread busy while the next ones queue up behind it (one commit).
    const first = store.appendMessages(batchOf(authorId, 0, 3000));
    const good1 = store.appendMessages(batchOf(authorId, 3000, 5));
    // No such author: the foreign key refuses this batch.
    const bad = store.appendMessages(batchOf(999_999, 3005, 4));
    const good2 = store.appendMessages(batchOf(authorId, 3009, 5));
    await expect(bad).rejects.toThrow(/FOREIGN KEY/);
    const results = [...(await first), ...(await good1), ...(await good2)];
    // Gapless: the refused batch took no seqs.
    expect(results.map((r) => (r.status === 'stored' ? r.message.seq : -1))).toEqual(Array.from({ length: 3010 }, (_, i) => i + 1));
    expect(results.slice(3000).map((r) => (r.status === 'stored' ? r.message.clientMsgId : ''))).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `c${3000 + i}`),
      ...Array.from({ length: 5 }, (_, i) => `c${3009 + i}`),
    ]);
    expect((await store.getRoom('lobby'))!.lastSeq).toBe(3010);
    expect((await store.messagesAfter('lobby', 3000, 100)).map((m) => m.clientMsgId)).toEqual(
      results.slice(3000).map((r) => (r.status === 'stored' ? r.message.clientMsgId : '')),
    );
  });

  it('closes its connection on close() even when nothing else keeps the process alive', async () => {
    // A process whose last work is `await store.close()` (a script, a shutdown)
    // used to end while the threads, unreferenced, still had the database open.
    const dir = await tempDir();
    cleanups.push(() => dir.remove());
    const file = path.join(dir.path, 'chat.db');
    const child = runWithStore(
      dir.path,
      `const store = openSqliteStore(${JSON.stringify(file)}, { synchronous: 'FULL' });
       const user = await store.createUser('writer', null, true);
       await store.createRoom({ id: 'lobby', title: 'Lobby', topic: '', private: false, createdBy: null });
       const stored = await store.appendMessages([{ roomId: 'lobby', authorId: user.id, text: 'bye', clientMsgId: 'c1', ts: 1 }]);
       await store.close();
       console.log(stored[0].status);`,
    );
    expect({ status: child.status, stdout: child.stdout.trim(), stderr: child.stderr }).toEqual({ status: 0, stdout: 'stored', stderr: '' });
    // The last connection closed cleanly: SQLite copied the log back and removed it.
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = openSqliteStore(file);
    cleanups.push(() => reopened.close());
    expect((await reopened.messagesAfter('lobby', 0, 10)).map((m) => m.text)).toEqual(['bye']);
  });

  it('keeps the savepoints of a group commit in memory: no temporary file is made', async () => {
    // SQLite reads SQLITE_TMPDIR once per process, so the store runs in a child
    // process of its own, with a directory of ours to watch for temporary files
    // (a savepoint's sub-journal spills to one past 64 KiB of changed pages).
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'sqlite-tmp-'));
    const dir = await tempDir();
    const seen: string[] = [];
    const watcher = watch(tmp, (_event, name) => seen.push(String(name)));
    cleanups.push(() => {
      watcher.close();
      rmSync(tmp, { recursive: true, force: true });
      return dir.remove();
    });
    const child = runWithStore(
      dir.path,
      `const store = openSqliteStore(${JSON.stringify(path.join(dir.path, 'chat.db'))}, { synchronous: 'FULL' });
       const user = await store.createUser('writer', null, true);
       const rooms = Array.from({ length: 100 }, (_, r) => 'room-' + r);
       for (const id of rooms) await store.createRoom({ id, title: id, topic: '', private: false, createdBy: null });
       let n = 0;
       const batch = (perRoom, authorId = user.id) =>
         rooms.flatMap((roomId) => Array.from({ length: perRoom }, () => ({ roomId, authorId, text: 'x'.repeat(100), clientMsgId: 'c' + n++, ts: n })));
       await store.appendMessages(batch(30));
       // Requests queued behind a large one commit together, each in a savepoint
       // that changes a page of every room's index; one is refused and rolled back.
       const pending = [store.appendMessages(batch(20)), store.appendMessages(batch(1)), store.appendMessages(batch(1)), store.appendMessages(batch(1))];
       const refused = await store.appendMessages(batch(1, 999999)).then(() => 'stored', (err) => err.message);
       const stored = (await Promise.all(pending)).flat().length;
       await store.close();
       console.log(JSON.stringify({ stored, refused }));`,
      { SQLITE_TMPDIR: tmp },
    );
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ stored: 2300, refused: expect.stringMatching(/FOREIGN KEY/) });
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the watcher report
    expect(seen).toEqual([]);
  });

  it('finishes a batch it was given before close, so a restart finds it', async () => {
    const { file, store, authorId } = await fixture();
    const pending = store.appendMessages(batchOf(authorId, 0, 300));
    const closed = store.close();
    const results = await pending;
    await closed;
    expect(results).toHaveLength(300);
    const reopened = openSqliteStore(file);
    try {
      expect((await reopened.messagesAfter('lobby', 0, 1000)).length).toBe(300);
    } finally {
      await reopened.close();
    }
  });
});

describe('the message writer over the SQLite writer thread', () => {
  it('hands over a batch every turn without waiting for answers, and the sends are stored in call order', async () => {
    const { store, authorId } = await fixture();
    // The real store, counting the batches handed over and not yet answered.
    let outstanding = 0;
    let mostOutstanding = 0;
    const counted: ChatStore = {
      ...store,
      appendMessages: async (batch) => {
        mostOutstanding = Math.max(mostOutstanding, ++outstanding);
        try {
          return await store.appendMessages(batch);
        } finally {
          outstanding--;
        }
      },
    };
    const writer = new MessageWriter(counted);
    const answers: Array<Promise<AppendResult | Error>> = [];
    // 150 turns of 4 sends: each turn's sends are one batch.
    for (let turn = 0; turn < 150; turn++) {
      for (const m of batchOf(authorId, turn * 4, 4)) answers.push(new Promise((done) => writer.write(m, done)));
      await new Promise((next) => setImmediate(next));
    }
    const results = await Promise.all(answers);
    await writer.drain();
    expect(results.map((r) => (r instanceof Error || r.status !== 'stored' ? -1 : r.message.seq))).toEqual(
      Array.from({ length: 600 }, (_, i) => i + 1),
    );
    expect(results.map((r) => (r instanceof Error || r.status !== 'stored' ? '' : r.message.clientMsgId))).toEqual(
      Array.from({ length: 600 }, (_, i) => `c${i}`),
    );
    // Never more than its bound in flight, whatever the disk's speed.
    expect(mostOutstanding).toBeLessThanOrEqual(64);
    expect((await store.getRoom('lobby'))!.lastSeq).toBe(600);
  });
});

describe('the SQLite writer thread, for every write', () => {
  it('commits writes sent together in one go, a refused one undoing only itself', async () => {
    const { store, authorId } = await fixture();
    // All in flight at once: they reach the thread's queue together.
    const [first, taken, room, joined, read, again] = await Promise.allSettled([
      store.createUser('carol', null, true),
      store.createUser('CAROL', null, true), // usernames are unique whatever the case
      store.createRoom({ id: 'side', title: 'Side', topic: '', private: false, createdBy: null }),
      store.addMember('lobby', authorId),
      store.setReadCursor('lobby', authorId, 0),
      store.createRoom({ id: 'side', title: 'Again', topic: '', private: false, createdBy: null }),
    ]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { username: 'carol' } });
    expect(taken.status).toBe('rejected');
    expect((taken as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(room).toMatchObject({ status: 'fulfilled', value: { id: 'side', title: 'Side' } });
    expect(joined.status).toBe('fulfilled');
    expect(read).toMatchObject({ status: 'fulfilled', value: 0 });
    expect((again as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    // What succeeded is there for the main thread's reads; what was refused left nothing.
    expect((await store.findUserByName('carol'))?.username).toBe('carol');
    expect((await store.getRoom('side'))?.title).toBe('Side');
    expect(await store.isMember('lobby', authorId)).toBe(true);
    // Read cursors only move forward, through the thread as well.
    await store.appendMessages(batchOf(authorId, 0, 5));
    expect(await store.setReadCursor('lobby', authorId, 4)).toBe(4);
    expect(await store.setReadCursor('lobby', authorId, 2)).toBe(4);
  });
});

describe('the SQLite checkpointer thread', () => {
  it('copies the write-ahead log into the database file while nothing else writes', async () => {
    const { file, store, authorId } = await fixture();
    const before = statSync(file).size;
    for (let k = 0; k < 10; k++) await store.appendMessages(batchOf(authorId, k * 200, 200));
    // About 500 KB of messages went to the log; the database file gets them
    // from the checkpointer (about once a second), not from any commit.
    await until('the database file to receive the messages', () => statSync(file).size > before + 400_000, 8000, 100);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
  });

  it('has the log started over under writes that never pause, so it stays bounded', async () => {
    // Writes one message per commit, back to back, for `ms`; returns the log's largest size meanwhile.
    const largestLogUnderLoad = async (restartFrames: number, ms: number): Promise<number> => {
      const dir = await tempDir();
      cleanups.push(() => dir.remove());
      const file = path.join(dir.path, 'chat.db');
      const store = openSqliteStore(file, { checkpoint: { intervalMs: 50, restartFrames } });
      cleanups.push(() => store.close());
      const user = await store.createUser('writer', null, true);
      await store.createRoom({ id: 'lobby', title: 'Lobby', topic: '', private: false, createdBy: null });
      let largest = 0;
      const end = Date.now() + ms;
      for (let k = 0; Date.now() < end; k++) {
        await store.appendMessages(batchOf(user.id, k, 1));
        if (k % 50 === 0) largest = Math.max(largest, statSync(`${file}-wal`).size);
      }
      return largest;
    };
    const MiB = 1024 * 1024;
    // Without restarts (the control) the log grows as long as the writes go
    // on (130 MB in 2.5 s here); with them it levels off at what the writes
    // add between two restarts (4.5 MB here). The file keeps its largest
    // size: a restart overwrites it from the start rather than shrinking it.
    const unbounded = await largestLogUnderLoad(Number.MAX_SAFE_INTEGER, 2500);
    const bounded = await largestLogUnderLoad(256, 2500);
    expect(unbounded).toBeGreaterThan(8 * MiB);
    expect(bounded).toBeLessThan(Math.min(unbounded / 4, 32 * MiB));
  });
});
