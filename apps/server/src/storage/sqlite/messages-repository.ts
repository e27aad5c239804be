import type { Database } from 'better-sqlite3';
import { toMessage, type MessageRow } from '../message-row.js';
import type { AppendResult, MessageRecord, NewMessage } from '../store.js';
import { fromOutcomes, markDuplicate, markRoomGone, markStored, newOutcomes, type AppendOutcomes } from './append-wire.js';

const COLUMNS = `m.id, m.room_id, m.seq, m.author_id, (SELECT username FROM users WHERE id = m.author_id) AS author,
  m.text, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at`;

export function createMessagesRepository(db: Database) {
  const byClientId = db.prepare<[number, string], MessageRow>(
    `SELECT ${COLUMNS} FROM messages m WHERE m.author_id = ? AND m.client_msg_id = ?`,
  );
  // The room's counter is read once per batch and written back once: seq is
  // gapless because the whole batch is one write transaction (SQLite has one writer).
  const lastSeq = db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM rooms WHERE id = ?');
  const setLastSeq = db.prepare<[number, string]>('UPDATE rooms SET last_seq = ? WHERE id = ?');
  // A re-sent message (same author and clientMsgId) inserts nothing and returns no row:
  // one statement per new message instead of a lookup, an update and an insert.
  // (run() and the row id rather than RETURNING: half the cost per row.)
  const insert = db.prepare<[string, number, number, string, string, number]>(
    `INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (client_msg_id, author_id) DO NOTHING`,
  );
  const byId = db.prepare<[string, number], MessageRow>(`SELECT ${COLUMNS} FROM messages m WHERE m.room_id = ? AND m.id = ?`);
  // The limits are bound through CAST, never as a bare LIMIT parameter: SQLite's
  // planner reads a bare LIMIT parameter's value, and a statement whose plan
  // read a parameter is marked expired whenever that parameter is bound — so
  // every call was prepared again (a history read of an empty room: 15 µs
  // instead of 4). test/sqlite-statements.test.ts keeps it that way.
  const after = db.prepare<[string, number, number], MessageRow>(
    `SELECT ${COLUMNS} FROM messages m WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT CAST(? AS INTEGER)`,
  );
  const before = db.prepare<[string, number, number], MessageRow>(
    `SELECT ${COLUMNS} FROM messages m WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT CAST(? AS INTEGER)`,
  );
  const edit = db.prepare<[string, number, string, number], MessageRow>(
    `UPDATE messages SET text = ?, edited_at = ? WHERE room_id = ? AND id = ? AND deleted_at IS NULL RETURNING id`,
  );
  const remove = db.prepare(`UPDATE messages SET text = '', deleted_at = ? WHERE room_id = ? AND id = ? AND deleted_at IS NULL`);
  const usernames = new Map<number, string>();
  const usernameOf = db.prepare<[number], { username: string }>('SELECT username FROM users WHERE id = ?');
  const authorName = (id: number) => {
    let name = usernames.get(id);
    if (name === undefined) {
      name = usernameOf.get(id)?.username ?? '';
      // Usernames never change, so a small cache saves a lookup per stored message.
      if (usernames.size > 10_000) usernames.clear();
      usernames.set(id, name);
    }
    return name;
  };

  /**
   * One transaction for the whole batch: one commit (and one fsync) however
   * many messages. Answers in the compact form the writer thread sends back
   * (append-wire.ts); `append` expands it where the caller wants records.
   */
  const appendBatch = db.transaction((batch: NewMessage[]): AppendOutcomes => {
    const outcomes = newOutcomes(batch.length);
    /** room → its last seq as this batch leaves it (null: no such room). */
    const seqs = new Map<string, number | null>();
    const changed = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i]!;
      let seq = seqs.get(m.roomId);
      if (seq === undefined) {
        seq = lastSeq.get(m.roomId)?.last_seq ?? null;
        seqs.set(m.roomId, seq);
      }
      if (seq === null) {
        markRoomGone(outcomes, i);
        continue;
      }
      const info = insert.run(m.roomId, seq + 1, m.authorId, m.text, m.clientMsgId, m.ts);
      if (info.changes === 0) {
        markDuplicate(outcomes, i, toMessage(byClientId.get(m.authorId, m.clientMsgId)!));
        continue;
      }
      seqs.set(m.roomId, seq + 1);
      changed.add(m.roomId);
      markStored(outcomes, i, Number(info.lastInsertRowid), seq + 1);
    }
    for (const room of changed) setLastSeq.run(seqs.get(room)!, room);
    return outcomes;
  });

  return {
    append(batch: NewMessage[]): AppendResult[] {
      return fromOutcomes(batch, appendBatch.immediate(batch), authorName);
    },
    /** `append` without building the records: what the writer thread sends back. */
    appendOutcomes(batch: NewMessage[]): AppendOutcomes {
      return appendBatch.immediate(batch);
    },
    /** A user's name, cached (usernames never change); '' for no such user. */
    authorName,
    get(roomId: string, id: number): MessageRecord | undefined {
      const row = byId.get(roomId, id);
      return row && toMessage(row);
    },
    after(roomId: string, since: number, limit: number): MessageRecord[] {
      return after.all(roomId, since, limit).map(toMessage);
    },
    before(roomId: string, beforeSeq: number | undefined, limit: number): MessageRecord[] {
      return before.all(roomId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit).map(toMessage);
    },
    edit(roomId: string, id: number, text: string, at: number): MessageRecord | undefined {
      const changed = edit.get(text, at, roomId, id);
      return changed ? this.get(roomId, id) : undefined;
    },
    remove(roomId: string, id: number, at: number): MessageRecord | undefined {
      const changed = remove.run(at, roomId, id).changes > 0;
      return changed ? this.get(roomId, id) : undefined;
    },
  };
}
