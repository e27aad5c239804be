import type { AttachmentInfo, AttachmentRecord, MessageRecord, NewMessage, ReactionRecord } from './store.js';

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
  pinned_at: number | null;
  /** The parent of a reply, joined in (null: not a reply). */
  reply_to: number | null;
  reply_seq: number | null;
  reply_author: string | null;
  reply_text: string | null;
  reply_deleted: number | boolean | null;
  replies: number;
  /** [emoji, username] pairs, first reaction first: JSON text from SQLite, parsed by pg; null for none. */
  reactions: string | Array<[string, string]> | null;
  /** [id, name, size, contentType, width, height, thumbnail] per file, in order: JSON text from SQLite, parsed by pg; null for none. */
  attachments: string | AttachmentTuple[] | null;
}

type AttachmentTuple = [string, string, number, string, number | null, number | null, number | boolean];

/** A row's `attachments`; undefined for none (a message without files carries no field). */
export function attachmentsOf(column: string | AttachmentTuple[] | null): AttachmentInfo[] | undefined {
  if (column === null || column === '[]') return undefined;
  const list = typeof column === 'string' ? (JSON.parse(column) as AttachmentTuple[]) : column;
  if (list.length === 0) return undefined;
  return list.map(([id, name, size, contentType, width, height, thumbnail]) => ({
    id,
    name,
    size: Number(size),
    contentType,
    width: width === null ? null : Number(width),
    height: height === null ? null : Number(height),
    thumbnail: Boolean(thumbnail),
  }));
}

/** An `attachments` table row, as both stores read it. */
export interface AttachmentRow {
  id: string;
  room_id: string;
  uploader_id: number;
  message_id: number | null;
  name: string;
  size: number;
  content_type: string;
  width: number | null;
  height: number | null;
  thumbnail: number | boolean;
  created_at: number;
}

export const toAttachment = (row: AttachmentRow): AttachmentRecord => ({
  id: row.id,
  name: row.name,
  size: Number(row.size),
  contentType: row.content_type,
  width: row.width,
  height: row.height,
  thumbnail: Boolean(row.thumbnail),
  roomId: row.room_id,
  uploaderId: row.uploader_id,
  messageId: row.message_id,
  createdAt: row.created_at,
});

/** The pairs of a row's `reactions`, grouped by emoji in the order each emoji first appeared. */
export function groupReactions(pairs: string | Array<[string, string]> | null): ReactionRecord[] {
  if (pairs === null || pairs === '[]') return [];
  const list = typeof pairs === 'string' ? (JSON.parse(pairs) as Array<[string, string]>) : pairs;
  const byEmoji = new Map<string, string[]>();
  for (const [emoji, user] of list) {
    const users = byEmoji.get(emoji);
    if (users) users.push(user);
    else byEmoji.set(emoji, [user]);
  }
  return [...byEmoji].map(([emoji, users]) => ({ emoji, users }));
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
  replyTo:
    row.reply_to === null
      ? null
      : {
          id: row.reply_to,
          seq: row.reply_seq ?? 0,
          author: row.reply_author ?? '',
          text: row.reply_text ?? '',
          deleted: Boolean(row.reply_deleted),
        },
  replies: row.replies,
  reactions: groupReactions(row.reactions),
  pinnedAt: row.pinned_at,
  attachments: attachmentsOf(row.attachments),
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
  replyTo: m.replyTo ?? null,
  replies: 0,
  reactions: [],
  pinnedAt: null,
  attachments: m.attachments,
});
