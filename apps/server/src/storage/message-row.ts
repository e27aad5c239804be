import type { MessageRecord, NewMessage } from './store.js';

/** A message as both stores' queries return it (snake_case columns, the author's name joined in). */
export interface MessageRow {
  id: number;
  room_id: string;
  seq: number;
  author_id: number;
  author: string;
  text: string;
  client_msg_id: string;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

export const toMessage = (row: MessageRow): MessageRecord => ({
  id: row.id,
  roomId: row.room_id,
  seq: row.seq,
  authorId: row.author_id,
  author: row.author,
  text: row.text,
  clientMsgId: row.client_msg_id,
  ts: row.created_at,
  editedAt: row.edited_at,
  deletedAt: row.deleted_at,
});

/** The record of a message just stored: what was sent, plus the row id and seq the store gave it. */
export const storedMessage = (m: NewMessage, id: number, seq: number, author: string): MessageRecord => ({
  id,
  roomId: m.roomId,
  seq,
  authorId: m.authorId,
  author,
  text: m.text,
  clientMsgId: m.clientMsgId,
  ts: m.ts,
  editedAt: null,
  deletedAt: null,
});
