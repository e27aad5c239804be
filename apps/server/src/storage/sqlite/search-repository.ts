import type { Database } from 'better-sqlite3';
import { toMessage, type MessageRow } from '../message-row.js';
import { searchWords, type MessageRecord, type SearchFilter, type SearchTerm } from '../store.js';
import { COLUMNS } from './messages-repository.js';

// The message rows as messages-repository.ts reads them (COLUMNS), reached from the index.
const MATCHED = 'messages_fts f JOIN messages m ON m.id = f.rowid LEFT JOIN messages p ON p.id = m.reply_to';
// CROSS JOIN keeps the backlog (a few hundred rows at most) the outer loop: left to itself the
// planner, knowing no sizes, walked every message of the searched rooms and probed the backlog
// for each (100 ms per 200,000 messages, measured; 0.03 ms this way).
const BACKLOG = 'search_backlog b CROSS JOIN messages m ON m.id = b.message_id LEFT JOIN messages p ON p.id = m.reply_to';

/** The statements of a search (exported for the test that checks their query plans). */
export const SEARCH_SQL = {
  inMemberRooms: `SELECT ${COLUMNS} FROM ${MATCHED}
      WHERE messages_fts MATCH ? AND f.rowid < ? AND m.deleted_at IS NULL
        AND m.room_id IN (SELECT room_id FROM room_members WHERE user_id = ?)
      ORDER BY f.rowid DESC LIMIT CAST(? AS INTEGER)`,
  inRoom: `SELECT ${COLUMNS} FROM ${MATCHED}
      WHERE messages_fts MATCH ? AND f.rowid < ? AND m.deleted_at IS NULL AND m.room_id = ?
      ORDER BY f.rowid DESC LIMIT CAST(? AS INTEGER)`,
  backlogInMemberRooms: `SELECT ${COLUMNS} FROM ${BACKLOG}
      WHERE b.message_id < ? AND m.deleted_at IS NULL AND m.room_id IN (SELECT room_id FROM room_members WHERE user_id = ?)`,
  backlogInRoom: `SELECT ${COLUMNS} FROM ${BACKLOG} WHERE b.message_id < ? AND m.deleted_at IS NULL AND m.room_id = ?`,
};

/**
 * Full-text search over the FTS5 index of migration 8. The index is walked
 * from its newest row down (FTS5 reads a doclist in either order), each match
 * joined to its message by primary key and kept if it is in the rooms
 * searched, until the page is full: a page costs what it skips, not the
 * whole result. The messages not indexed yet (the backlog of migration 10,
 * a few hundred at most) are matched here, word by word, and merged in.
 */
export function createSearchRepository(db: Database) {
  const inMemberRooms = db.prepare<[string, number, number, number], MessageRow>(SEARCH_SQL.inMemberRooms);
  const inRoom = db.prepare<[string, number, string, number], MessageRow>(SEARCH_SQL.inRoom);
  const backlogInMemberRooms = db.prepare<[number, number], MessageRow>(SEARCH_SQL.backlogInMemberRooms);
  const backlogInRoom = db.prepare<[number, string], MessageRow>(SEARCH_SQL.backlogInRoom);
  return {
    search(filter: SearchFilter): MessageRecord[] {
      const match = ftsQuery(filter.terms);
      const before = filter.before ?? Number.MAX_SAFE_INTEGER;
      const { scope } = filter;
      const rows = 'roomId' in scope
        ? inRoom.all(match, before, scope.roomId, filter.limit)
        : inMemberRooms.all(match, before, scope.userId, filter.limit);
      const waiting = (
        'roomId' in scope ? backlogInRoom.all(before, scope.roomId) : backlogInMemberRooms.all(before, scope.userId)
      ).filter((row) => termsMatch(searchWords(row.text), filter.terms));
      if (waiting.length === 0) return rows.map(toMessage);
      // A message is in the index or in the backlog, never both (an edit takes it out of the index).
      return [...rows, ...waiting]
        .sort((a, b) => b.id - a.id)
        .slice(0, filter.limit)
        .map(toMessage);
    },
  };
}

/**
 * Whether a message's words match every term as the FTS5 query of `ftsQuery`
 * does: a term's words one after another, the last one as a prefix if the
 * term is one.
 */
export function termsMatch(words: readonly string[], terms: readonly SearchTerm[]): boolean {
  return terms.every((term) => {
    const n = term.words.length;
    if (n === 0) return true;
    for (let at = 0; at + n <= words.length; at++) {
      let k = 0;
      while (k < n - 1 && words[at + k] === term.words[k]) k++;
      if (k < n - 1) continue;
      const last = words[at + n - 1]!;
      if (term.prefix ? last.startsWith(term.words[n - 1]!) : last === term.words[n - 1]) return true;
    }
    return false;
  });
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
