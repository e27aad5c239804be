import type { Database } from 'better-sqlite3';
import { ROOM_COLUMNS, toRoom, type RoomRow } from '../room-row.js';
import { ConflictError, type MemberRecord, type RoomForUser, type RoomPatch, type RoomRecord } from '../store.js';

export function createRoomsRepository(db: Database) {
  const insert = db.prepare(
    `INSERT INTO rooms (id, title, topic, private, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO NOTHING`,
  );
  const byId = db.prepare<[string], RoomRow>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.id = ?`);
  const all = db.prepare<[], RoomRow>(`SELECT ${ROOM_COLUMNS} FROM rooms r ORDER BY r.id`);
  const forUser = db.prepare<[number, number], RoomRow & { joined: number; unread: number }>(
    `SELECT ${ROOM_COLUMNS},
            m.user_id IS NOT NULL AS joined,
            CASE WHEN m.user_id IS NULL THEN 0 ELSE
              (SELECT COUNT(*) FROM messages x
                WHERE x.room_id = r.id AND x.seq > m.read_seq AND x.deleted_at IS NULL AND x.author_id <> m.user_id)
            END AS unread
       FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = ?
      WHERE m.user_id IS NOT NULL OR (r.private = 0 AND r.archived = 0)
        AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = ?)
      ORDER BY r.id`,
  );
  const remove = db.prepare('DELETE FROM rooms WHERE id = ?');
  const addMember = db.prepare(
    'INSERT INTO room_members (room_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const removeMember = db.prepare('DELETE FROM room_members WHERE room_id = ? AND user_id = ?');
  const isMember = db.prepare<[string, number], { one: number }>(
    'SELECT 1 AS one FROM room_members WHERE room_id = ? AND user_id = ?',
  );
  const members = db.prepare<[string], { user_id: number; username: string; read_seq: number }>(
    `SELECT m.user_id, u.username, m.read_seq FROM room_members m JOIN users u ON u.id = m.user_id
      WHERE m.room_id = ? ORDER BY u.username_key`,
  );
  // The cursor only moves forward, and never past the room's last message.
  const setRead = db.prepare<[number, string, number], { read_seq: number }>(
    `UPDATE room_members
        SET read_seq = MAX(read_seq, MIN(?, (SELECT last_seq FROM rooms WHERE id = room_id)))
      WHERE room_id = ? AND user_id = ?
      RETURNING read_seq`,
  );
  const addBan = db.prepare('INSERT INTO room_bans (room_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
  const removeBan = db.prepare('DELETE FROM room_bans WHERE room_id = ? AND user_id = ?');
  const isBanned = db.prepare<[string, number], { one: number }>(
    'SELECT 1 AS one FROM room_bans WHERE room_id = ? AND user_id = ?',
  );
  const exists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM rooms WHERE id = ?');

  // The room is looked up first because a gone room would fail the foreign
  // key of the ban or the membership. Only one connection writes (the writer
  // thread's, or the store's own without one), so no delete can come between
  // the look-up and the writes. db.transaction: without a writer thread no
  // other transaction holds the two statements; on it, this nests as a
  // savepoint, so a failed second statement still undoes the first.
  const banMember = db.transaction((roomId: string, userId: number): boolean => {
    if (exists.get(roomId) === undefined) return false;
    addBan.run(roomId, userId, Date.now());
    return removeMember.run(roomId, userId).changes > 0;
  });
  const admitMember = db.transaction((roomId: string, userId: number): void => {
    if (exists.get(roomId) === undefined) return;
    removeBan.run(roomId, userId);
    addMember.run(roomId, userId, Date.now());
  });

  const update = (id: string, patch: RoomPatch): RoomRecord | undefined => {
    const sets: string[] = [];
    const values: Array<string | number> = [];
    const set = (column: string, value: string | number) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (patch.title !== undefined) set('title', patch.title);
    if (patch.topic !== undefined) set('topic', patch.topic);
    if (patch.private !== undefined) set('private', patch.private ? 1 : 0);
    if (patch.archived !== undefined) set('archived', patch.archived ? 1 : 0);
    if (sets.length > 0) db.prepare(`UPDATE rooms SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    const row = byId.get(id);
    return row && toRoom(row);
  };

  return {
    create(room: { id: string; title: string; topic: string; private: boolean; createdBy: number | null }): RoomRecord {
      const result = insert.run(room.id, room.title, room.topic, room.private ? 1 : 0, room.createdBy, Date.now());
      if (result.changes === 0) throw new ConflictError(`the room ${room.id} exists`);
      return toRoom(byId.get(room.id)!);
    },
    get(id: string): RoomRecord | undefined {
      const row = byId.get(id);
      return row && toRoom(row);
    },
    list(): RoomRecord[] {
      return all.all().map(toRoom);
    },
    listForUser(userId: number): RoomForUser[] {
      return forUser.all(userId, userId).map((row) => ({ ...toRoom(row), joined: row.joined === 1, unread: row.unread }));
    },
    update,
    remove(id: string): boolean {
      return remove.run(id).changes > 0;
    },
    addMember(roomId: string, userId: number): void {
      addMember.run(roomId, userId, Date.now());
    },
    removeMember(roomId: string, userId: number): boolean {
      return removeMember.run(roomId, userId).changes > 0;
    },
    isMember(roomId: string, userId: number): boolean {
      return isMember.get(roomId, userId) !== undefined;
    },
    members(roomId: string): MemberRecord[] {
      return members.all(roomId).map((m) => ({ userId: m.user_id, username: m.username, readSeq: m.read_seq }));
    },
    setReadCursor(roomId: string, userId: number, seq: number): number {
      return setRead.get(seq, roomId, userId)?.read_seq ?? 0;
    },
    addBan(roomId: string, userId: number): void {
      addBan.run(roomId, userId, Date.now());
    },
    removeBan(roomId: string, userId: number): boolean {
      return removeBan.run(roomId, userId).changes > 0;
    },
    isBanned(roomId: string, userId: number): boolean {
      return isBanned.get(roomId, userId) !== undefined;
    },
    banMember(roomId: string, userId: number): boolean {
      return banMember(roomId, userId);
    },
    admitMember(roomId: string, userId: number): void {
      admitMember(roomId, userId);
    },
  };
}
