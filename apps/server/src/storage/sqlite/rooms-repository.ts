import type { Database } from 'better-sqlite3';
import { ROOM_COLUMNS, toRoom, type RoomRow } from '../room-row.js';
import {
  ConflictError,
  type MemberStanding,
  type NewRoomRecord,
  type RoomForUser,
  type RoomPatch,
  type RoomRecord,
  type RoomRole,
} from '../store.js';

export function createRoomsRepository(db: Database) {
  const insert = db.prepare(
    `INSERT INTO rooms (id, kind, direct_key, title, topic, private, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const byDirectKey = db.prepare<[string], RoomRow>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.direct_key = ?`);
  const byId = db.prepare<[string], RoomRow>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.id = ?`);
  const all = db.prepare<[], RoomRow>(`SELECT ${ROOM_COLUMNS} FROM rooms r ORDER BY r.id`);
  const forUser = db.prepare<[number, number], RoomRow & { joined: number; unread: number; mentions: number; role: RoomRole | null; member_names: string | null }>(
    `SELECT ${ROOM_COLUMNS},
            m.user_id IS NOT NULL AS joined, m.role,
            CASE WHEN m.user_id IS NULL THEN 0 ELSE
              (SELECT COUNT(*) FROM messages x
                WHERE x.room_id = r.id AND x.seq > m.read_seq AND x.deleted_at IS NULL AND x.author_id <> m.user_id)
            END AS unread,
            CASE WHEN m.user_id IS NULL THEN 0 ELSE
              (SELECT COUNT(*) FROM mentions x WHERE x.user_id = m.user_id AND x.room_id = r.id AND x.seq > m.read_seq)
            END AS mentions,
            CASE WHEN r.kind = 'direct' THEN
              (SELECT json_group_array(u.username ORDER BY u.username_key)
                 FROM room_members d JOIN users u ON u.id = d.user_id WHERE d.room_id = r.id)
            END AS member_names
       FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = ?
      WHERE m.user_id IS NOT NULL OR (r.private = 0 AND r.archived = 0)
        AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = ?)
      ORDER BY r.id`,
  );
  const remove = db.prepare('DELETE FROM rooms WHERE id = ?');
  // The cascade takes the room's messages (and their search backlog rows); their words leave the search index (migration 8) in the same transaction.
  const unindexRoom = db.prepare('DELETE FROM messages_fts WHERE rowid IN (SELECT id FROM messages WHERE room_id = ?)');
  const removeTx = db.transaction((id: string): boolean => {
    unindexRoom.run(id);
    return remove.run(id).changes > 0;
  });
  const addMember = db.prepare(
    'INSERT INTO room_members (room_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const addMemberAs = db.prepare(
    'INSERT INTO room_members (room_id, user_id, joined_at, role) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const standing = db.prepare<[string, number, string, number], { role: RoomRole | null; banned: number }>(
    `SELECT (SELECT role FROM room_members WHERE room_id = ? AND user_id = ?) AS role,
            EXISTS (SELECT 1 FROM room_bans WHERE room_id = ? AND user_id = ?) AS banned`,
  );
  const setRole = db.prepare('UPDATE room_members SET role = ? WHERE room_id = ? AND user_id = ?');
  const roleOf = db.prepare<[string, number], { role: RoomRole }>('SELECT role FROM room_members WHERE room_id = ? AND user_id = ?');
  const removeMember = db.prepare('DELETE FROM room_members WHERE room_id = ? AND user_id = ?');
  const isMember = db.prepare<[string, number], { one: number }>(
    'SELECT 1 AS one FROM room_members WHERE room_id = ? AND user_id = ?',
  );
  // The member lists are read by member-cache.ts, which keeps them.
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

  const create = db.transaction((room: NewRoomRecord): RoomRecord => {
    const now = Date.now();
    const result = insert.run(room.id, room.kind ?? 'room', room.directKey ?? null, room.title, room.topic, room.private ? 1 : 0, room.createdBy, now);
    if (result.changes === 0) throw new ConflictError(`the room ${room.id} exists`);
    for (const m of room.members ?? []) addMemberAs.run(room.id, m.userId, now, m.role);
    return toRoom(byId.get(room.id)!);
  });
  const transferOwnership = db.transaction((roomId: string, fromUserId: number, toUserId: number): boolean => {
    if (fromUserId === toUserId) return false;
    if (roleOf.get(roomId, fromUserId)?.role !== 'owner' || roleOf.get(roomId, toUserId) === undefined) return false;
    setRole.run('moderator', roomId, fromUserId);
    setRole.run('owner', roomId, toUserId);
    return true;
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
    create(room: NewRoomRecord): RoomRecord {
      return create(room);
    },
    findDirect(directKey: string): RoomRecord | undefined {
      const row = byDirectKey.get(directKey);
      return row && toRoom(row);
    },
    get(id: string): RoomRecord | undefined {
      const row = byId.get(id);
      return row && toRoom(row);
    },
    list(): RoomRecord[] {
      return all.all().map(toRoom);
    },
    listForUser(userId: number): RoomForUser[] {
      return forUser
        .all(userId, userId)
        .map((row) => ({ ...toRoom(row), joined: row.joined === 1, unread: row.unread, mentions: row.mentions, role: row.role ?? null, memberNames: row.member_names === null ? null : (JSON.parse(row.member_names) as string[]) }));
    },
    update,
    remove(id: string): boolean {
      return removeTx(id);
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
    standing(roomId: string, userId: number): MemberStanding {
      const row = standing.get(roomId, userId, roomId, userId)!;
      return { role: row.role ?? null, banned: row.banned === 1 };
    },
    setRole(roomId: string, userId: number, role: RoomRole): boolean {
      return setRole.run(role, roomId, userId).changes > 0;
    },
    transferOwnership(roomId: string, fromUserId: number, toUserId: number): boolean {
      return transferOwnership(roomId, fromUserId, toUserId);
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
