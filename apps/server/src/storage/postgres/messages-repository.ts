/**
 * Messages in PostgreSQL, where several server nodes write the same room at once.
 *
 * Why a row lock on the room and not a SEQUENCE: a sequence hands out numbers
 * outside the transaction, so a rolled-back insert (or a crash between nextval
 * and COMMIT) leaves a hole, and two nodes could commit seq 8 before seq 7 —
 * a reader polling "seq > 6" would then skip 7 forever. The room's `last_seq`
 * counter, read and advanced under the row's lock in the transaction that
 * inserts the messages, gives every room 1, 2, 3, … with no gap, committed in
 * order. The price is that writers to the *same* room take turns for the
 * length of one batch (one round of statements); writers to different rooms
 * never wait for each other.
 *
 * Deadlocks: a batch may span rooms, so every batch locks its rooms in one
 * global order (sorted by id) before touching anything else. The lock is FOR
 * NO KEY UPDATE — what the UPDATE of last_seq takes anyway — rather than FOR
 * UPDATE, so joins and bans in the room (whose foreign keys take KEY SHARE on
 * the room) don't queue behind message commits; a room delete still does.
 *
 * Duplicates: one query finds every (author, clientMsgId) of the batch already
 * stored. A key stored by another node *between* that query and our insert
 * (the same message re-sent to another room through another node, say) is
 * caught by ON CONFLICT DO NOTHING: no row comes back, and the message is then
 * a duplicate of the row the other node stored, without using up a seq.
 */
import type { Pool, PoolClient } from 'pg';
import { storedMessage, toMessage, type MessageRow } from '../message-row.js';
import { QUOTE_CHARS, type AppendResult, type MessageRecord, type NewMessage, type ReactionChange } from '../store.js';
import { searchVector } from './search-text.js';
import { inTransaction, statement, withoutNul } from './sql.js';

// As in SQLite: the parent of a reply (p) joined in for its quote, reply counts and reactions per row through their indexes.
export const COLUMNS = `m.id, m.room_id, m.seq, m.author_id, u.username AS author,
  m.text, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.pinned_at, m.reply_to,
  p.seq AS reply_seq, pu.username AS reply_author, left(p.text, ${QUOTE_CHARS}) AS reply_text, p.deleted_at IS NOT NULL AS reply_deleted,
  (SELECT COUNT(*) FROM messages c WHERE c.reply_to = m.id AND c.deleted_at IS NULL) AS replies,
  (SELECT json_agg(json_build_array(r.emoji, ru.username) ORDER BY r.created_at, r.emoji)
     FROM reactions r JOIN users ru ON ru.id = r.user_id WHERE r.message_id = m.id) AS reactions,
  (SELECT json_agg(json_build_array(a.id, a.name, a.size, a.content_type, a.width, a.height, a.thumbnail) ORDER BY a.position)
     FROM attachments a WHERE a.message_id = m.id) AS attachments`;
const PARENT = 'LEFT JOIN messages p ON p.id = m.reply_to LEFT JOIN users pu ON pu.id = p.author_id';
export const FROM = `messages m JOIN users u ON u.id = m.author_id ${PARENT}`;
/** The rows a data-modifying CTE named `m` returned (its RETURNING *), with their author. */
const FROM_CTE = `m JOIN users u ON u.id = m.author_id ${PARENT}`;

/** (author, clientMsgId) as one map key; NUL cannot occur in a stored clientMsgId (see withoutNul). */
const keyOf = (authorId: number, clientMsgId: string) => `${authorId}\u0000${clientMsgId}`;

// ORDER BY makes the lock order global: LockRows runs above the sort, so rows are locked sorted.
const lockRooms = statement<{ id: string; last_seq: number }>(
  'messages_lock_rooms',
  'SELECT id, last_seq FROM rooms WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE',
);
const storedKeys = statement<MessageRow>(
  'messages_by_keys',
  `SELECT ${COLUMNS} FROM ${FROM}
    WHERE (m.author_id, m.client_msg_id) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))`,
);
const byKey = statement<MessageRow>('messages_by_key', `SELECT ${COLUMNS} FROM ${FROM} WHERE m.author_id = $1 AND m.client_msg_id = $2`);
// Every new message of a batch in one statement. Returns fewer rows than it was given
// only when another transaction stored one of the keys since the duplicate lookup.
// Only what the database chose comes back (and the author's name): the caller holds the
// rest, and a new message has no replies, reactions or files to read yet — reading its
// whole record (COLUMNS' subqueries) was a quarter of a 100-message commit, measured.
const insertMany = statement<{ id: number; seq: number; author_id: number; client_msg_id: string; author: string }>(
  'messages_insert_many',
  `WITH m AS (
     INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at, reply_to, search_vector)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::tsvector[])
     ON CONFLICT (client_msg_id, author_id) DO NOTHING
     RETURNING id, seq, author_id, client_msg_id)
   SELECT m.id, m.seq, m.author_id, m.client_msg_id, u.username AS author FROM m JOIN users u ON u.id = m.author_id`,
);
const insertOne = statement<MessageRow>(
  'messages_insert_one',
  `WITH m AS (
     INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at, reply_to, search_vector)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::tsvector)
     ON CONFLICT (client_msg_id, author_id) DO NOTHING
     RETURNING *)
   SELECT ${COLUMNS} FROM ${FROM_CTE}`,
);
const saveCounters = statement(
  'messages_save_counters',
  `UPDATE rooms r SET last_seq = c.last_seq FROM unnest($1::text[], $2::bigint[]) AS c(id, last_seq) WHERE r.id = c.id`,
);
const byId = statement<MessageRow>('messages_by_id', `SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = $1 AND m.id = $2`);
const after = statement<MessageRow>(
  'messages_after',
  `SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`,
);
const before = statement<MessageRow>(
  'messages_before',
  `SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3`,
);
const edit = statement<MessageRow>(
  'messages_edit',
  `WITH m AS (
     UPDATE messages SET text = $1, edited_at = $2, search_vector = $5::tsvector
      WHERE room_id = $3 AND id = $4 AND deleted_at IS NULL RETURNING *)
   SELECT ${COLUMNS} FROM ${FROM_CTE}`,
);
// Its reactions and mentions go in the same statement (the row returned still sees the reactions: dropped in code).
const remove = statement<MessageRow>(
  'messages_delete',
  `WITH m AS (
     UPDATE messages SET text = '', deleted_at = $1, pinned_at = NULL, search_vector = NULL
      WHERE room_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING *),
   gone_reactions AS (DELETE FROM reactions WHERE message_id IN (SELECT id FROM m)),
   gone_mentions AS (DELETE FROM mentions WHERE room_id = $2 AND seq IN (SELECT seq FROM m)),
   gone_attachments AS (DELETE FROM attachments WHERE message_id IN (SELECT id FROM m))
   SELECT ${COLUMNS} FROM ${FROM_CTE}`,
);
// Only the author's own unattached uploads in the message's room (the domain checked; this keeps it true in the transaction).
const attachFiles = statement(
  'attachments_attach',
  `UPDATE attachments a SET message_id = f.message_id, position = f.position
     FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::bigint[]) AS f(id, message_id, position, room_id, uploader_id)
    WHERE a.id = f.id AND a.room_id = f.room_id AND a.uploader_id = f.uploader_id AND a.message_id IS NULL`,
);
// Of these uploads, the ones still free for a message of their uploader in their room. Read under the
// room's counter lock (`lockRooms`): two sends of one upload are in one room, so they take turns here.
const attachableFiles = statement<{ id: string }>(
  'attachments_attachable',
  `SELECT a.id FROM attachments a JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS f(id, room_id, uploader_id)
       ON a.id = f.id AND a.room_id = f.room_id AND a.uploader_id = f.uploader_id
    WHERE a.message_id IS NULL`,
);
const insertMentions = statement(
  'mentions_insert',
  'INSERT INTO mentions (room_id, user_id, seq) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING',
);
const replies = statement<MessageRow>(
  'messages_replies',
  `SELECT ${COLUMNS} FROM ${FROM} WHERE m.reply_to = $1 AND m.room_id = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4`,
);
// Reactions to one message take turns on its row, so the bound on distinct emoji holds under concurrent reactions.
const lockLive = statement<{ id: number }>(
  'messages_lock_live',
  'SELECT id FROM messages WHERE room_id = $1 AND id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE',
);
const reactionFacts = statement<{ mine: boolean; same: number; others: number }>(
  'reactions_facts',
  `SELECT bool_or(user_id = $3 AND emoji = $2) IS TRUE AS mine,
          COUNT(*) FILTER (WHERE emoji = $2) AS same,
          COUNT(DISTINCT emoji) FILTER (WHERE emoji <> $2) AS others
     FROM reactions WHERE message_id = $1`,
);
const insertReaction = statement(
  'reactions_insert',
  'INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
);
const deleteReaction = statement('reactions_delete', 'DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3');
const pin = statement<MessageRow>(
  'messages_pin',
  `WITH m AS (UPDATE messages SET pinned_at = $1 WHERE room_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING *)
   SELECT ${COLUMNS} FROM ${FROM_CTE}`,
);
const pinned = statement<MessageRow>(
  'messages_pinned',
  `SELECT ${COLUMNS} FROM ${FROM} WHERE m.room_id = $1 AND m.pinned_at IS NOT NULL ORDER BY m.pinned_at DESC, m.id DESC`,
);
const named = statement<{ user_id: number; username: string }>(
  'members_named',
  `SELECT u.id AS user_id, u.username FROM room_members rm JOIN users u ON u.id = rm.user_id
    WHERE rm.room_id = $1 AND u.username_key = ANY(SELECT lower(n) FROM unnest($2::text[]) AS n)`,
);

/** SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses it, and reads NULL that way. */
const limitOf = (limit: number) => (limit < 0 ? null : limit);

/** How many times a message whose key vanished under it (stored, then its room deleted) is retried. */
const MAX_KEY_RACES = 3;

/** SQLSTATE 40P01. */
const DEADLOCK_DETECTED = '40P01';
const MAX_DEADLOCK_RETRIES = 3;

type Mode = 'one-statement' | 'one-by-one';

/** A message of the batch that gets a seq: it is new, and its room exists. */
interface Fresh {
  index: number;
  key: string;
  values: [
    roomId: string,
    seq: number,
    authorId: number,
    text: string,
    clientMsgId: string,
    ts: number,
    replyTo: number | null,
    searchVector: string,
  ];
}

/** The ids of the uploads named by the batch's new messages that no message carries yet. */
async function freeFiles(client: PoolClient, batch: NewMessage[], stored: Map<string, MessageRecord>): Promise<Set<string>> {
  const named: [string[], string[], number[]] = [[], [], []];
  for (const m of batch) {
    if (!m.attachments || stored.has(keyOf(m.authorId, withoutNul(m.clientMsgId)))) continue;
    for (const a of m.attachments) {
      named[0].push(a.id);
      named[1].push(m.roomId);
      named[2].push(m.authorId);
    }
  }
  if (named[0].length === 0) return new Set();
  return new Set((await attachableFiles(client, named)).rows.map((r) => r.id));
}

/**
 * One attempt at a batch, inside a transaction. 'one-statement' inserts every
 * new message at once and returns `undefined` (roll back) if any key was taken
 * meanwhile; 'one-by-one' inserts message by message and settles each race as
 * it comes, so it always completes.
 */
async function appendIn(client: PoolClient, batch: NewMessage[], mode: Mode): Promise<AppendResult[] | undefined> {
  const roomIds = [...new Set(batch.map((m) => m.roomId))];
  const counters = new Map((await lockRooms(client, [roomIds])).rows.map((r) => [r.id, r.last_seq]));
  const lockedAt = new Map(counters);
  const clientMsgIds = batch.map((m) => withoutNul(m.clientMsgId));
  // Every key stored before this batch, then every key the batch stores: a later
  // message of the batch with the same key is a duplicate of it, as in SQLite.
  const stored = new Map<string, MessageRecord>();
  for (const row of (await storedKeys(client, [batch.map((m) => m.authorId), clientMsgIds])).rows) {
    stored.set(keyOf(row.author_id, row.client_msg_id), toMessage(row));
  }

  const attachable = await freeFiles(client, batch, stored);

  const results: Array<AppendResult | undefined> = new Array(batch.length);
  const fresh: Fresh[] = [];
  // Positions whose key an earlier message of the batch is about to store (one-statement mode).
  const repeats: Array<{ index: number; key: string }> = [];
  const claimed = new Set<string>();
  for (const [index, message] of batch.entries()) {
    const key = keyOf(message.authorId, clientMsgIds[index]!);
    const existing = stored.get(key);
    if (existing) {
      results[index] = { status: 'duplicate', message: existing };
      continue;
    }
    if (claimed.has(key)) {
      repeats.push({ index, key });
      continue;
    }
    const lastSeq = counters.get(message.roomId);
    if (lastSeq === undefined) {
      results[index] = { status: 'room_gone' };
      continue;
    }
    if (message.attachments) {
      // A file already on another message (two sends of one upload, through two nodes) refuses the message whole.
      if (!message.attachments.every((a) => attachable.has(a.id))) {
        results[index] = { status: 'files_taken' };
        continue;
      }
      for (const a of message.attachments) attachable.delete(a.id);
    }
    const item: Fresh = {
      index,
      key,
      values: [
        message.roomId,
        lastSeq + 1,
        message.authorId,
        withoutNul(message.text),
        clientMsgIds[index]!,
        message.ts,
        message.replyTo?.id ?? null,
        searchVector(message.text),
      ],
    };
    if (mode === 'one-statement') {
      claimed.add(key);
      counters.set(message.roomId, lastSeq + 1);
      fresh.push(item);
    } else {
      const result = await insertSettlingRaces(client, item);
      results[index] = result;
      stored.set(key, result.message);
      if (result.status === 'stored') counters.set(message.roomId, lastSeq + 1);
    }
  }

  if (fresh.length > 0) {
    // Rows go in sorted by key, so two batches whose keys overlap (the same messages
    // sent to two rooms through two nodes) wait for each other in one order, not in a cycle.
    fresh.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const { rows } = await insertMany(
      client,
      fresh[0]!.values.map((_, column) => fresh.map((f) => f.values[column])),
    );
    if (rows.length < fresh.length) return undefined;
    const sent = new Map(fresh.map((f) => [f.key, batch[f.index]!]));
    for (const row of rows) {
      const key = keyOf(row.author_id, row.client_msg_id);
      const m = sent.get(key)!;
      // As stored: PostgreSQL text holds no U+0000 (withoutNul).
      stored.set(key, storedMessage({ ...m, text: withoutNul(m.text), clientMsgId: row.client_msg_id }, row.id, row.seq, row.author));
    }
    for (const f of fresh) results[f.index] = { status: 'stored', message: stored.get(f.key)! };
    for (const r of repeats) results[r.index] = { status: 'duplicate', message: stored.get(r.key)! };
  }

  // Whom the messages stored now mention, by their seq, in the same transaction.
  const mentioned: [string[], number[], number[]] = [[], [], []];
  for (const [index, message] of batch.entries()) {
    const result = results[index];
    if (result?.status !== 'stored' || !message.mentions) continue;
    for (const userId of message.mentions) {
      mentioned[0].push(message.roomId);
      mentioned[1].push(userId);
      mentioned[2].push(result.message.seq);
    }
  }
  if (mentioned[0].length > 0) await insertMentions(client, mentioned);

  // Their files, in the same transaction.
  const files: [string[], number[], number[], string[], number[]] = [[], [], [], [], []];
  for (const [index, message] of batch.entries()) {
    const result = results[index];
    if (result?.status !== 'stored' || !message.attachments) continue;
    message.attachments.forEach((a, position) => {
      files[0].push(a.id);
      files[1].push(result.message.id);
      files[2].push(position);
      files[3].push(message.roomId);
      files[4].push(message.authorId);
    });
    // The row was read back before its files were attached: the record takes them from the batch.
    result.message.attachments = message.attachments;
  }
  if (files[0].length > 0) await attachFiles(client, files);

  const advanced = [...counters].filter(([id, seq]) => lockedAt.get(id) !== seq);
  if (advanced.length > 0) await saveCounters(client, [advanced.map(([id]) => id), advanced.map(([, seq]) => seq)]);
  return results as AppendResult[];
}

/**
 * Inserts one message; if its key was stored meanwhile by another transaction,
 * answers `duplicate` with that row instead. The room is locked by us, so the
 * seq stays free whatever happens elsewhere.
 */
async function insertSettlingRaces(client: PoolClient, item: Fresh): Promise<Extract<AppendResult, { message: MessageRecord }>> {
  const [, , authorId, , clientMsgId] = item.values;
  for (let attempt = 0; attempt < MAX_KEY_RACES; attempt++) {
    const inserted = (await insertOne(client, item.values)).rows[0];
    if (inserted) return { status: 'stored', message: toMessage(inserted) };
    // DO NOTHING skips only a row that is committed, so this new statement sees it —
    // unless its room was deleted in between; then the insert is worth another try.
    const other = (await byKey(client, [authorId, clientMsgId])).rows[0];
    if (other) return { status: 'duplicate', message: toMessage(other) };
  }
  throw new Error(`the message key ${JSON.stringify(item.key)} kept changing under the insert`);
}

export function createMessagesRepository(pool: Pool) {
  return {
    /**
     * One transaction per batch. The first attempt stores all of it in a few
     * statements whatever its size; in the rare race where another node stores
     * one of its keys meanwhile, that attempt is rolled back (nothing of it is
     * kept, no seq is used) and the batch is stored message by message.
     */
    async append(batch: NewMessage[]): Promise<AppendResult[]> {
      if (batch.length === 0) return [];
      let mode: Mode = 'one-statement';
      for (let attempt = 1; ; attempt++) {
        try {
          const results = await inTransaction(pool, (client) => appendIn(client, batch, mode));
          if (results) return results;
        } catch (err) {
          // Two one-by-one batches inserting the same keys in opposite orders can still
          // deadlock; PostgreSQL then aborts one of them, and doing it again succeeds.
          if ((err as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt >= MAX_DEADLOCK_RETRIES) throw err;
        }
        mode = 'one-by-one';
      }
    },
    async get(roomId: string, id: number): Promise<MessageRecord | undefined> {
      const { rows } = await byId(pool, [roomId, id]);
      return rows[0] && toMessage(rows[0]);
    },
    async after(roomId: string, since: number, limit: number): Promise<MessageRecord[]> {
      return (await after(pool, [roomId, since, limitOf(limit)])).rows.map(toMessage);
    },
    async before(roomId: string, beforeSeq: number | undefined, limit: number): Promise<MessageRecord[]> {
      return (await before(pool, [roomId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limitOf(limit)])).rows.map(toMessage);
    },
    async edit(roomId: string, id: number, text: string, at: number): Promise<MessageRecord | undefined> {
      const { rows } = await edit(pool, [withoutNul(text), at, roomId, id, searchVector(text)]);
      return rows[0] && toMessage(rows[0]);
    },
    async remove(roomId: string, id: number, at: number): Promise<MessageRecord | undefined> {
      const { rows } = await remove(pool, [at, roomId, id]);
      return rows[0] && { ...toMessage(rows[0]), reactions: [], attachments: undefined };
    },
    async repliesTo(roomId: string, parentId: number, afterSeq: number, limit: number): Promise<MessageRecord[]> {
      return (await replies(pool, [parentId, roomId, afterSeq, limitOf(limit)])).rows.map(toMessage);
    },
    async addReaction(roomId: string, messageId: number, userId: number, emoji: string, maxDistinct: number, at: number): Promise<ReactionChange> {
      const key = withoutNul(emoji);
      const change = await inTransaction(pool, async (client): Promise<ReactionChange> => {
        if ((await lockLive(client, [roomId, messageId])).rows.length === 0) return { status: 'no_message' };
        const facts = (await reactionFacts(client, [messageId, key, userId])).rows[0]!;
        if (facts.mine) return { status: 'unchanged', count: facts.same };
        if (facts.same === 0 && facts.others >= maxDistinct) return { status: 'too_many' };
        await insertReaction(client, [messageId, key, userId, at]);
        return { status: 'changed', count: facts.same + 1 };
      });
      return change!;
    },
    async removeReaction(roomId: string, messageId: number, userId: number, emoji: string): Promise<ReactionChange> {
      const key = withoutNul(emoji);
      const change = await inTransaction(pool, async (client): Promise<ReactionChange> => {
        if ((await lockLive(client, [roomId, messageId])).rows.length === 0) return { status: 'no_message' };
        const removed = ((await deleteReaction(client, [messageId, key, userId])).rowCount ?? 0) > 0;
        const facts = (await reactionFacts(client, [messageId, key, userId])).rows[0]!;
        return { status: removed ? 'changed' : 'unchanged', count: facts.same };
      });
      return change!;
    },
    async setPinned(roomId: string, id: number, pinnedAt: number | null): Promise<MessageRecord | undefined> {
      const { rows } = await pin(pool, [pinnedAt, roomId, id]);
      return rows[0] && toMessage(rows[0]);
    },
    async pinnedMessages(roomId: string): Promise<MessageRecord[]> {
      return (await pinned(pool, [roomId])).rows.map(toMessage);
    },
    async membersNamed(roomId: string, usernames: readonly string[]): Promise<Array<{ userId: number; username: string }>> {
      return (await named(pool, [roomId, usernames])).rows.map((r) => ({ userId: r.user_id, username: r.username }));
    },
  };
}
