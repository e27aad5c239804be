import type { Pool, PoolClient } from 'pg';
import { toMessage, type MessageRow } from '../message-row.js';
import type { MessageRecord, SearchFilter } from '../store.js';
import { COLUMNS, FROM } from './messages-repository.js';
import { searchQuery, searchVector } from './search-text.js';
import { statement } from './sql.js';

// Search over migration 8's vectors (see search-text.ts for what they hold).
// Newest first through the primary key, each row checked against the index:
// the planner picks between that and a bitmap scan of the GIN index (rare words).
const inMemberRooms = statement<MessageRow>(
  'messages_search_member_rooms',
  `SELECT ${COLUMNS} FROM ${FROM}
    WHERE m.search_vector @@ $1::tsquery AND m.id < $2 AND m.deleted_at IS NULL
      AND m.room_id IN (SELECT room_id FROM room_members WHERE user_id = $3)
    ORDER BY m.id DESC LIMIT $4`,
);
const inRoom = statement<MessageRow>(
  'messages_search_room',
  `SELECT ${COLUMNS} FROM ${FROM}
    WHERE m.search_vector @@ $1::tsquery AND m.id < $2 AND m.deleted_at IS NULL AND m.room_id = $3
    ORDER BY m.id DESC LIMIT $4`,
);

export function createSearchRepository(pool: Pool) {
  return {
    async search(filter: SearchFilter): Promise<MessageRecord[]> {
      const query = searchQuery(filter.terms);
      const before = filter.before ?? Number.MAX_SAFE_INTEGER;
      const { rows } =
        'roomId' in filter.scope
          ? await inRoom(pool, [query, before, filter.scope.roomId, filter.limit])
          : await inMemberRooms(pool, [query, before, filter.scope.userId, filter.limit]);
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
