import type { Database } from 'better-sqlite3';
import { toAttachment, type AttachmentRow } from '../message-row.js';
import type { AttachmentCreation, AttachmentRecord } from '../store.js';

/** Uploads: their rows (the bytes are the file store's). Attaching one to a message is part of the message's append. */
export function createAttachmentsRepository(db: Database) {
  const roomExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM rooms WHERE id = ?');
  const used = db.prepare<[number], { n: number }>('SELECT COALESCE(SUM(size), 0) AS n FROM attachments WHERE uploader_id = ?');
  const insert = db.prepare<[string, string, number, string, number, string, number | null, number | null, number, number]>(
    `INSERT INTO attachments (id, room_id, uploader_id, name, size, content_type, width, height, thumbnail, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const byId = db.prepare<[string], AttachmentRow>('SELECT * FROM attachments WHERE id = ?');
  const stale = db.prepare<[number], { id: string }>('DELETE FROM attachments WHERE message_id IS NULL AND created_at < ? RETURNING id');
  const ofRoom = db.prepare<[string], { id: string }>('SELECT id FROM attachments WHERE room_id = ?');
  const known = db.prepare<[string], { id: string }>('SELECT id FROM attachments WHERE id IN (SELECT value FROM json_each(?))');

  // The quota check and the insert in one transaction (one writer): two uploads at once cannot both squeeze under it.
  const create = db.transaction((a: AttachmentRecord, maxUserBytes: number): AttachmentCreation => {
    if (!roomExists.get(a.roomId)) return 'room_gone';
    if (used.get(a.uploaderId)!.n + a.size > maxUserBytes) return 'over_quota';
    insert.run(a.id, a.roomId, a.uploaderId, a.name, a.size, a.contentType, a.width, a.height, a.thumbnail ? 1 : 0, a.createdAt);
    return 'stored';
  });

  return {
    create: (record: AttachmentRecord, maxUserBytes: number): AttachmentCreation => create.immediate(record, maxUserBytes),
    get(id: string): AttachmentRecord | undefined {
      const row = byId.get(id);
      return row && toAttachment(row);
    },
    uploadedBytes: (userId: number): number => used.get(userId)!.n,
    deleteUnattached: (before: number): string[] => stale.all(before).map((r) => r.id),
    roomIds: (roomId: string): string[] => ofRoom.all(roomId).map((r) => r.id),
    knownIds: (ids: readonly string[]): string[] => known.all(JSON.stringify(ids)).map((r) => r.id),
  };
}
