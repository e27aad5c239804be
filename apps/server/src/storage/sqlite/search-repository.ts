import type { Database } from 'better-sqlite3';
import { toMessage, type MessageRow } from '../message-row.js';
import type { MessageRecord, SearchFilter, SearchTerm } from '../store.js';
import { COLUMNS } from './messages-repository.js';

/**
 * Full-text search over the FTS5 index of migration 8. The index is walked
 * from its newest row down (FTS5 reads a doclist in either order), each match
 * joined to its message by primary key and kept if it is in the rooms
 * searched, until the page is full: a page costs what it skips, not the
 * whole result.
 */
export function createSearchRepository(db: Database) {
  // The message rows as messages-repository.ts reads them (COLUMNS), reached from the index.
  const MATCHED = 'messages_fts f JOIN messages m ON m.id = f.rowid LEFT JOIN messages p ON p.id = m.reply_to';
  const inMemberRooms = db.prepare<[string, number, number, number], MessageRow>(
    `SELECT ${COLUMNS} FROM ${MATCHED}
      WHERE messages_fts MATCH ? AND f.rowid < ? AND m.deleted_at IS NULL
        AND m.room_id IN (SELECT room_id FROM room_members WHERE user_id = ?)
      ORDER BY f.rowid DESC LIMIT CAST(? AS INTEGER)`,
  );
  const inRoom = db.prepare<[string, number, string, number], MessageRow>(
    `SELECT ${COLUMNS} FROM ${MATCHED}
      WHERE messages_fts MATCH ? AND f.rowid < ? AND m.deleted_at IS NULL AND m.room_id = ?
      ORDER BY f.rowid DESC LIMIT CAST(? AS INTEGER)`,
  );
  return {
    search(filter: SearchFilter): MessageRecord[] {
      const match = ftsQuery(filter.terms);
      const before = filter.before ?? Number.MAX_SAFE_INTEGER;
      const rows =
        'roomId' in filter.scope
          ? inRoom.all(match, before, filter.scope.roomId, filter.limit)
          : inMemberRooms.all(match, before, filter.scope.userId, filter.limit);
      return rows.map(toMessage);
    },
  };
}

/**
 * The FTS5 query of the terms: each a quoted string (a phrase of one or more
 * words), `*` after a prefix; terms side by side must all match. The words
 * hold letters and digits only (searchWords), so quoting them cannot be
 * escaped out of.
 */
export function ftsQuery(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `"${t.words.join(' ')}"${t.prefix ? '*' : ''}`).join(' ');
}
