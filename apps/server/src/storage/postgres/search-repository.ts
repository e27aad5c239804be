import type { Pool, PoolClient } from 'pg';
import { toMessage, type MessageRow } from '../message-row.js';
import type { MessageRecord, SearchFilter } from '../store.js';
import { COLUMNS, FROM } from './messages-repository.js';
import { searchQuery, searchVector } from './search-text.js';

// Search over migration 8's vectors (see search-text.ts for what they hold).
// Not prepared statements, unlike the other queries: how to run a search
// depends on how common its words are — walk the newest messages and test
// each (a common word), or intersect the GIN index's bitmap with the rooms'
// (a rare one) — which only a plan made for the query's own tsquery knows. A
// prepared statement goes generic after five runs and keeps one plan for all:
// a rare word in a user's few rooms then walked the whole table (45 ms over
// 200,000 messages, against 2 ms planned for it). Measured over 200,000
// messages in 1,000 rooms on a busy machine, p50: 2–3.5 ms for a user in
// every room, 2–15 ms in ten rooms (55 ms for a common word with a prefix).
const searchIn = (scope: string) => `SELECT ${COLUMNS} FROM ${FROM}
    WHERE m.search_vector @@ $1::tsquery AND m.id < $2 AND m.deleted_at IS NULL AND ${scope}
    ORDER BY m.id DESC LIMIT $4`;
// (The rooms as ARRAY(SELECT …) instead, an index condition whose bitmap PostgreSQL can intersect with
// the word's, helped a user of ten rooms and cost one of a thousand 26–104 ms: not kept.)
const IN_MEMBER_ROOMS = searchIn('m.room_id IN (SELECT room_id FROM room_members WHERE user_id = $3)');
const IN_ROOM = searchIn('m.room_id = $3');

export function createSearchRepository(pool: Pool) {
  return {
    async search(filter: SearchFilter): Promise<MessageRecord[]> {
      const query = searchQuery(filter.terms);
      const before = filter.before ?? Number.MAX_SAFE_INTEGER;
      // An unnamed statement: planned at each run with its own values.
      const { rows } =
        'roomId' in filter.scope
          ? await pool.query<MessageRow>(IN_ROOM, [query, before, filter.scope.roomId, filter.limit])
          : await pool.query<MessageRow>(IN_MEMBER_ROOMS, [query, before, filter.scope.userId, filter.limit]);
      return rows.map(toMessage);
    },
  };
}

/**
 * Migration 8's data step: the vectors of the messages stored before it, in
 * batches by id (the text is folded here, in JavaScript, as for new messages).
 */
export async function indexStoredMessages(client: PoolClient, batchSize = 2000): Promise<void> {
  for (let after = 0; ; ) {
    const { rows } = await client.query<{ id: number; text: string }>(
      'SELECT id, text FROM messages WHERE id > $1 AND deleted_at IS NULL ORDER BY id LIMIT $2',
      [after, batchSize],
    );
    if (rows.length === 0) return;
    await client.query(
      'UPDATE messages m SET search_vector = v.vector FROM unnest($1::bigint[], $2::tsvector[]) AS v(id, vector) WHERE m.id = v.id',
      [rows.map((r) => r.id), rows.map((r) => searchVector(r.text))],
    );
    after = Number(rows[rows.length - 1]!.id);
  }
}
