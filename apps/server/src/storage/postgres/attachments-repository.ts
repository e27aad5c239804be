import type { Pool } from 'pg';
import { toAttachment, type AttachmentRow } from '../message-row.js';
import type { AttachmentCreation, AttachmentRecord } from '../store.js';
import { inTransaction, statement, withoutNul } from './sql.js';

/** The advisory lock class of a user's uploads: "file" in ASCII (see migrations.ts for "chat"). */
const UPLOAD_LOCK = 0x66696c65;

// KEY SHARE on the room: it cannot be deleted under the insert, and nothing else waits on it.
const roomHeld = statement<{ one: number }>('attachments_room', 'SELECT 1 AS one FROM rooms WHERE id = $1 FOR KEY SHARE');
// One user's uploads take turns on an advisory lock (any node), so two at once cannot both squeeze under the quota.
const lockUser = statement('attachments_lock_user', 'SELECT pg_advisory_xact_lock($1, $2::int)');
const used = statement<{ n: number }>('attachments_used', 'SELECT COALESCE(SUM(size), 0)::bigint AS n FROM attachments WHERE uploader_id = $1');
const insert = statement(
  'attachments_insert',
  `INSERT INTO attachments (id, room_id, uploader_id, name, size, content_type, width, height, thumbnail, created_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
);
const byId = statement<AttachmentRow>('attachments_by_id', 'SELECT * FROM attachments WHERE id = $1');
const stale = statement<{ id: string }>('attachments_stale', 'DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1 RETURNING id');
const ofRoom = statement<{ id: string }>('attachments_of_room', 'SELECT id FROM attachments WHERE room_id = $1');
const known = statement<{ id: string }>('attachments_known', 'SELECT id FROM attachments WHERE id = ANY($1::text[])');

export function createAttachmentsRepository(pool: Pool) {
  return {
    async create(a: AttachmentRecord, maxUserBytes: number): Promise<AttachmentCreation> {
      const outcome = await inTransaction(pool, async (client): Promise<AttachmentCreation> => {
        if ((await roomHeld(client, [a.roomId])).rows.length === 0) return 'room_gone';
        // The user id folded into the lock's int4 key: an unrelated user sharing a key only waits a moment.
        await lockUser(client, [UPLOAD_LOCK, a.uploaderId | 0]);
        if (Number((await used(client, [a.uploaderId])).rows[0]!.n) + a.size > maxUserBytes) return 'over_quota';
        await insert(client, [a.id, a.roomId, a.uploaderId, withoutNul(a.name), a.size, a.contentType, a.width, a.height, a.thumbnail, a.createdAt]);
        return 'stored';
      });
      return outcome!;
    },
    async get(id: string): Promise<AttachmentRecord | undefined> {
      const row = (await byId(pool, [id])).rows[0];
      return row && toAttachment(row);
    },
    async uploadedBytes(userId: number): Promise<number> {
      return Number((await used(pool, [userId])).rows[0]!.n);
    },
    async deleteUnattached(before: number): Promise<string[]> {
      return (await stale(pool, [before])).rows.map((r) => r.id);
    },
    async roomIds(roomId: string): Promise<string[]> {
      return (await ofRoom(pool, [roomId])).rows.map((r) => r.id);
    },
    async knownIds(ids: readonly string[]): Promise<string[]> {
      return (await known(pool, [ids])).rows.map((r) => r.id);
    },
  };
}
