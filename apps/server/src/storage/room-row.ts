import type { RoomKind, RoomRecord } from './store.js';

/** A room as both stores' queries return it (snake_case columns, the creator's name joined in). */
export interface RoomRow {
  id: string;
  kind: RoomKind;
  title: string;
  topic: string;
  /** PostgreSQL returns a boolean, SQLite 0 or 1. */
  private: boolean | number;
  archived: boolean | number;
  last_seq: number;
  created_at: number;
  created_by: string | null;
}

/** The columns of a `RoomRow`, from `rooms r`: the same SQL in both stores. */
export const ROOM_COLUMNS = `r.id, r.kind, r.title, r.topic, r.private, r.archived, r.last_seq, r.created_at,
  (SELECT username FROM users WHERE id = r.created_by) AS created_by`;

export const toRoom = (row: RoomRow): RoomRecord => ({
  id: row.id,
  kind: row.kind,
  title: row.title,
  topic: row.topic,
  private: Boolean(row.private),
  archived: Boolean(row.archived),
  lastSeq: row.last_seq,
  createdAt: row.created_at,
  createdBy: row.created_by,
});
