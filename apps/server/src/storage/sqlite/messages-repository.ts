import type { Database } from 'better-sqlite3';
import { toMessage, type MessageRow } from '../message-row.js';
import { QUOTE_CHARS, searchWords, type AppendResult, type MessageRecord, type NewMessage, type ReactionChange } from '../store.js';
import { fromOutcomes, markDuplicate, markFilesTaken, markRoomGone, markStored, newOutcomes, type AppendOutcomes } from './append-wire.js';

// A reply's parent (p) is joined in for its quote; reply counts and reactions
// are read per row through indexes that hold only replies and reactions, so a
// room without either pays a probe each, not a scan.
export const COLUMNS = `m.id, m.room_id, m.seq, m.author_id, (SELECT username FROM users WHERE id = m.author_id) AS author,
  m.text, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.pinned_at, m.reply_to,
  p.seq AS reply_seq, (SELECT username FROM users WHERE id = p.author_id) AS reply_author,
  substr(p.text, 1, ${QUOTE_CHARS}) AS reply_text, p.deleted_at IS NOT NULL AS reply_deleted,
  (SELECT COUNT(*) FROM messages c WHERE c.reply_to = m.id AND c.deleted_at IS NULL) AS replies,
  (SELECT json_group_array(json_array(r.emoji, u.username) ORDER BY r.created_at, r.emoji)
     FROM reactions r JOIN users u ON u.id = r.user_id WHERE r.message_id = m.id) AS reactions,
  (SELECT json_group_array(json_array(a.id, a.name, a.size, a.content_type, a.width, a.height, a.thumbnail) ORDER BY a.position)
     FROM attachments a WHERE a.message_id = m.id) AS attachments`;
const FROM = 'messages m LEFT JOIN messages p ON p.id = m.reply_to';

/** PRAGMA synchronous as SQLite reads it back: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
const SYNCHRONOUS_NORMAL = 1;

export function createMessagesRepository(db: Database) {
  const byClientId = db.prepare<[number, string], MessageRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE m.author_id = ? AND m.client_msg_id = ?`,
  );
  // The room's counter is read once per batch and written back once: seq is
  // gapless because the whole batch is one write transaction (SQLite has one writer).
  const lastSeq = db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM rooms WHERE id = ?');
  const setLastSeq = db.prepare<[number, string]>('UPDATE rooms SET last_seq = ? WHERE id = ?');
  // A re-sent message (same author and clientMsgId) inserts nothing and returns no row:
  // one statement per new message instead of a lookup, an update and an insert.
  // (run() and the row id rather than RETURNING: half the cost per row.)
  const insert = db.prepare<[string, number, number, string, string, number, number | null]>(
    `INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (client_msg_id, author_id) DO NOTHING`,
  );
  const insertMention = db.prepare<[string, number, number]>(
    'INSERT INTO mentions (room_id, user_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  // The search index (migrations 8 and 10): a stored or edited message joins the
  // backlog in its own transaction, and the indexer (search-indexer.ts) moves the
  // backlog into the FTS5 index a few hundred at a time, since FTS5 pays about
  // 100 µs a commit for the segment it writes, whatever it holds. Searches read
  // the backlog too (search-repository.ts): nothing committed is ever unfindable.
  const toBacklog = db.prepare<[number]>('INSERT OR IGNORE INTO search_backlog (message_id) VALUES (?)');
  const outOfBacklog = db.prepare<[number]>('DELETE FROM search_backlog WHERE message_id = ?');
  // (Deleting a row the index does not hold is a no-op in FTS5.)
  const unindex = db.prepare<[number]>('DELETE FROM messages_fts WHERE rowid = ?');
  const indexWords = db.prepare<[number, string]>('INSERT INTO messages_fts (rowid, words) VALUES (?, ?)');
  const backlogCount = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM search_backlog');
  const backlogPage = db.prepare<[number], { id: number; text: string | null }>(
    `SELECT b.message_id AS id, m.text FROM search_backlog b LEFT JOIN messages m ON m.id = b.message_id AND m.deleted_at IS NULL
      ORDER BY b.message_id LIMIT CAST(? AS INTEGER)`,
  );
  const backlogDone = db.prepare<[number, number]>('DELETE FROM search_backlog WHERE message_id BETWEEN ? AND ?');
  let backlogSize = backlogCount.get()!.n;
  const indexBacklogTx = db.transaction((max: number): number => {
    const page = backlogPage.all(max);
    if (page.length === 0) return 0;
    for (const row of page) if (row.text !== null) indexWords.run(row.id, searchWords(row.text).join(' '));
    backlogDone.run(page[0]!.id, page[page.length - 1]!.id);
    return page.length;
  });
  // Only the author's own unattached upload in this room: the domain checked as much, this keeps it true in the transaction.
  const attach = db.prepare<[number, number, string, string, number]>(
    'UPDATE attachments SET message_id = ?, position = ? WHERE id = ? AND room_id = ? AND uploader_id = ? AND message_id IS NULL',
  );
  const attachable = db.prepare<[string, string, number], { ok: number }>(
    'SELECT 1 AS ok FROM attachments WHERE id = ? AND room_id = ? AND uploader_id = ? AND message_id IS NULL',
  );
  const removeAttachments = db.prepare<[number]>('DELETE FROM attachments WHERE message_id = ?');
  const byId = db.prepare<[string, number], MessageRow>(`SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = ? AND m.id = ?`);
  // The limits are bound through CAST, never as a bare LIMIT parameter: SQLite's
  // planner reads a bare LIMIT parameter's value, and a statement whose plan
  // read a parameter is marked expired whenever that parameter is bound — so
  // every call was prepared again (a history read of an empty room: 15 µs
  // instead of 4). test/sqlite-statements.test.ts keeps it that way.
  const after = db.prepare<[string, number, number], MessageRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT CAST(? AS INTEGER)`,
  );
  const before = db.prepare<[string, number, number], MessageRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT CAST(? AS INTEGER)`,
  );
  const edit = db.prepare<[string, number, string, number], MessageRow>(
    `UPDATE messages SET text = ?, edited_at = ? WHERE room_id = ? AND id = ? AND deleted_at IS NULL RETURNING id`,
  );
  const remove = db.prepare<[number, string, number], { seq: number }>(
    `UPDATE messages SET text = '', deleted_at = ?, pinned_at = NULL WHERE room_id = ? AND id = ? AND deleted_at IS NULL RETURNING seq`,
  );
  const removeReactions = db.prepare<[number]>('DELETE FROM reactions WHERE message_id = ?');
  const removeMentions = db.prepare<[string, number]>('DELETE FROM mentions WHERE room_id = ? AND seq = ?');
  const replies = db.prepare<[number, string, number, number], MessageRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE m.reply_to = ? AND m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT CAST(? AS INTEGER)`,
  );
  const live = db.prepare<[string, number], { id: number }>('SELECT id FROM messages WHERE room_id = ? AND id = ? AND deleted_at IS NULL');
  const hasReaction = db.prepare<[number, string, number], { one: number }>(
    'SELECT 1 AS one FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?',
  );
  const distinctOthers = db.prepare<[number, string], { n: number }>(
    'SELECT COUNT(DISTINCT emoji) AS n FROM reactions WHERE message_id = ? AND emoji <> ?',
  );
  const insertReaction = db.prepare<[number, string, number, number]>(
    'INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const deleteReaction = db.prepare<[number, string, number]>('DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?');
  const emojiCount = db.prepare<[number, string], { n: number }>('SELECT COUNT(*) AS n FROM reactions WHERE message_id = ? AND emoji = ?');
  const pin = db.prepare<[number | null, string, number], { id: number }>(
    'UPDATE messages SET pinned_at = ? WHERE room_id = ? AND id = ? AND deleted_at IS NULL RETURNING id',
  );
  const pinned = db.prepare<[string], MessageRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = ? AND m.pinned_at IS NOT NULL ORDER BY m.pinned_at DESC, m.id DESC`,
  );
  const named = db.prepare<[string, string], { user_id: number; username: string }>(
    `SELECT u.id AS user_id, u.username FROM room_members rm JOIN users u ON u.id = rm.user_id
      WHERE rm.room_id = ? AND u.username_key IN (SELECT lower(value) FROM json_each(?))`,
  );
  const getOne = (roomId: string, id: number): MessageRecord | undefined => {
    const row = byId.get(roomId, id);
    return row && toMessage(row);
  };
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
      // A file already on another message (two sends of one upload, through two nodes) refuses the message
      // whole — unless it is this very message, stored before: then it is a duplicate like any other.
      if (m.attachments && !m.attachments.every((a) => attachable.get(a.id, m.roomId, m.authorId))) {
        const earlier = byClientId.get(m.authorId, m.clientMsgId);
        if (earlier) markDuplicate(outcomes, i, toMessage(earlier));
        else markFilesTaken(outcomes, i);
        continue;
      }
      const info = insert.run(m.roomId, seq + 1, m.authorId, m.text, m.clientMsgId, m.ts, m.replyTo?.id ?? null);
      if (info.changes === 0) {
        markDuplicate(outcomes, i, toMessage(byClientId.get(m.authorId, m.clientMsgId)!));
        continue;
      }
      if (m.mentions) for (const userId of m.mentions) insertMention.run(m.roomId, userId, seq + 1);
      toBacklog.run(Number(info.lastInsertRowid));
      backlogSize++;
      if (m.attachments) {
        const messageId = Number(info.lastInsertRowid);
        for (const [position, a] of m.attachments.entries()) attach.run(messageId, position, a.id, m.roomId, m.authorId);
      }
      seqs.set(m.roomId, seq + 1);
      changed.add(m.roomId);
      markStored(outcomes, i, Number(info.lastInsertRowid), seq + 1);
    }
    for (const room of changed) setLastSeq.run(seqs.get(room)!, room);
    return outcomes;
  });

  const editTx = db.transaction((roomId: string, id: number, text: string, at: number): MessageRecord | undefined => {
    if (!edit.get(text, at, roomId, id)) return undefined;
    unindex.run(id);
    backlogSize += toBacklog.run(id).changes;
    return getOne(roomId, id);
  });

  const removeTx = db.transaction((roomId: string, id: number, at: number): MessageRecord | undefined => {
      const removed = remove.get(at, roomId, id);
      if (!removed) return undefined;
      removeReactions.run(id);
      removeMentions.run(roomId, removed.seq);
      unindex.run(id);
      backlogSize -= outOfBacklog.run(id).changes;
      removeAttachments.run(id);
      return getOne(roomId, id);
    });

  const addReactionTx = db.transaction(
      (roomId: string, messageId: number, userId: number, emoji: string, maxDistinct: number, at: number): ReactionChange => {
        if (!live.get(roomId, messageId)) return { status: 'no_message' };
        if (hasReaction.get(messageId, emoji, userId)) return { status: 'unchanged', count: emojiCount.get(messageId, emoji)!.n };
        // A new emoji only while fewer than maxDistinct others are there; one more of an existing emoji always.
        if (emojiCount.get(messageId, emoji)!.n === 0 && distinctOthers.get(messageId, emoji)!.n >= maxDistinct) {
          return { status: 'too_many' };
        }
        insertReaction.run(messageId, emoji, userId, at);
        return { status: 'changed', count: emojiCount.get(messageId, emoji)!.n };
      },
    );

  const removeReactionTx = db.transaction((roomId: string, messageId: number, userId: number, emoji: string): ReactionChange => {
      if (!live.get(roomId, messageId)) return { status: 'no_message' };
      const changed = deleteReaction.run(messageId, emoji, userId).changes > 0;
      return { status: changed ? 'changed' : 'unchanged', count: emojiCount.get(messageId, emoji)!.n };
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
    /** Messages stored or edited since the indexer last ran (as this connection counts them). */
    searchBacklog: (): number => backlogSize,
    /** Moves up to `max` of the backlog into the FTS5 index, in one transaction; how many it took. */
    indexBacklog(max: number): number {
      // The index is derived from rows already committed, so its commit need not wait for the disk: a
      // pass lost in a crash leaves its messages in the backlog, indexed again after the restart, and
      // the next durable commit's fsync covers its frames anyway (the log is written in order). One
      // fsync fewer per pass on the writer thread, which is what the messages' acks wait on.
      const level = db.pragma('synchronous', { simple: true }) as number;
      if (level > SYNCHRONOUS_NORMAL) db.pragma('synchronous = NORMAL');
      let taken: number;
      try {
        taken = indexBacklogTx.immediate(max);
      } finally {
        if (level > SYNCHRONOUS_NORMAL) db.pragma(`synchronous = ${level}`);
      }
      // Recounted: a room's deletion takes its messages' backlog rows along unseen here.
      backlogSize = backlogCount.get()!.n;
      return taken;
    },
    get: getOne,
    after(roomId: string, since: number, limit: number): MessageRecord[] {
      return after.all(roomId, since, limit).map(toMessage);
    },
    before(roomId: string, beforeSeq: number | undefined, limit: number): MessageRecord[] {
      return before.all(roomId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit).map(toMessage);
    },
    edit: (roomId: string, id: number, text: string, at: number): MessageRecord | undefined => editTx(roomId, id, text, at),
    remove: (roomId: string, id: number, at: number): MessageRecord | undefined => removeTx(roomId, id, at),
    repliesTo(roomId: string, parentId: number, afterSeq: number, limit: number): MessageRecord[] {
      return replies.all(parentId, roomId, afterSeq, limit).map(toMessage);
    },
    addReaction: (roomId: string, messageId: number, userId: number, emoji: string, maxDistinct: number, at: number): ReactionChange =>
      addReactionTx(roomId, messageId, userId, emoji, maxDistinct, at),
    removeReaction: (roomId: string, messageId: number, userId: number, emoji: string): ReactionChange =>
      removeReactionTx(roomId, messageId, userId, emoji),
    setPinned(roomId: string, id: number, pinnedAt: number | null): MessageRecord | undefined {
      return pin.get(pinnedAt, roomId, id) ? getOne(roomId, id) : undefined;
    },
    pinnedMessages(roomId: string): MessageRecord[] {
      return pinned.all(roomId).map(toMessage);
    },
    membersNamed(roomId: string, usernames: readonly string[]): Array<{ userId: number; username: string }> {
      return named.all(roomId, JSON.stringify(usernames)).map((r) => ({ userId: r.user_id, username: r.username }));
    },
  };
}
