import type { MessageRecord } from './store.js';

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
