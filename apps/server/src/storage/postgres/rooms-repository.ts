import type { Pool } from 'pg';
import { ROOM_COLUMNS, toRoom, type RoomRow } from '../room-row.js';
import {
  ConflictError,
  type MemberRecord,
  type MemberStanding,
  type NewRoomRecord,
  type RoomForUser,
  type RoomPatch,
  type RoomRecord,
  type RoomRole,
} from '../store.js';
import { statement, withoutNul } from './sql.js';

// The room and its first members in one statement (one transaction): a taken
// id or direct key inserts nothing, so no members either.
const insertRoom = statement<{ id: string }>(
  'rooms_insert',
  `WITH room AS (
     INSERT INTO rooms (id, kind, direct_key, title, topic, private, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id),
   members AS (
     INSERT INTO room_members (room_id, user_id, joined_at, role)
     SELECT room.id, m.user_id, $8, m.role FROM room, unnest($9::bigint[], $10::text[]) AS m(user_id, role))
   SELECT id FROM room`,
);
const roomByDirectKey = statement<RoomRow>('rooms_by_direct_key', `SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.direct_key = $1`);
const standing = statement<{ role: RoomRole | null; banned: boolean }>(
  'members_standing',
  `SELECT (SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2) AS role,
          EXISTS (SELECT 1 FROM room_bans WHERE room_id = $1 AND user_id = $2) AS banned`,
);
const setRole = statement('members_set_role', 'UPDATE room_members SET role = $3 WHERE room_id = $1 AND user_id = $2');
// Both rows change in one statement, and only when the first is the owner and the second a member.
const transferOwnership = statement(
  'members_transfer_ownership',
  `UPDATE room_members SET role = CASE WHEN user_id = $2 THEN 'moderator' ELSE 'owner' END
    WHERE room_id = $1 AND user_id IN ($2, $3)
      AND EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2 AND role = 'owner')
      AND EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $3)
      AND $2 <> $3`,
);
const roomById = statement<RoomRow>('rooms_by_id', `SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.id = $1`);
const allRooms = statement<RoomRow>('rooms_all', `SELECT ${ROOM_COLUMNS} FROM rooms r ORDER BY r.id`);
// The SQLite query, operator for operator: AND binds tighter than OR, so a member
// sees a room whatever its flags, and a ban hides only public rooms they are not in.
const roomsForUser = statement<RoomRow & { joined: boolean; unread: number; mentions: number; role: RoomRole | null; member_names: string[] | null }>(
  'rooms_for_user',
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
            (SELECT array_agg(u.username ORDER BY u.username_key)
               FROM room_members d JOIN users u ON u.id = d.user_id WHERE d.room_id = r.id)
          END AS member_names
     FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1
    WHERE m.user_id IS NOT NULL OR (NOT r.private AND NOT r.archived)
      AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = $1)
    ORDER BY r.id`,
);
const deleteRoom = statement('rooms_delete', 'DELETE FROM rooms WHERE id = $1');
const insertMember = statement(
  'members_insert',
  'INSERT INTO room_members (room_id, user_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
);
const deleteMember = statement('members_delete', 'DELETE FROM room_members WHERE room_id = $1 AND user_id = $2');
const memberExists = statement('members_exists', 'SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2');
const roomMembers = statement<{ user_id: number; username: string; read_seq: number; role: RoomRole }>(
  'members_of_room',
  `SELECT m.user_id, u.username, m.read_seq, m.role FROM room_members m JOIN users u ON u.id = m.user_id
    WHERE m.room_id = $1 ORDER BY u.username_key`,
);
// The cursor only moves forward, and never past the room's last message.
const setReadCursor = statement<{ read_seq: number }>(
  'members_set_read',
  `UPDATE room_members m
      SET read_seq = GREATEST(m.read_seq, LEAST($1::bigint, (SELECT r.last_seq FROM rooms r WHERE r.id = m.room_id)))
    WHERE m.room_id = $2 AND m.user_id = $3
    RETURNING m.read_seq`,
);
const insertBan = statement(
  'bans_insert',
  'INSERT INTO room_bans (room_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
);
const deleteBan = statement('bans_delete', 'DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2');
const banExists = statement('bans_exists', 'SELECT 1 FROM room_bans WHERE room_id = $1 AND user_id = $2');
// A ban and an admission are each one statement, not BEGIN … COMMIT on a
// checked-out client: a statement is a transaction of its own (a failure in
// any part undoes every part), it takes one round trip where a transaction
// takes five, and it holds no pooled connection across round trips.
//
// The room's row is locked first, FOR KEY SHARE: the lock the foreign keys
// take anyway, so it waits for no message commit (see messages-repository.ts).
// A delete of the room then either committed before (no row: nothing is
// written, where the insert would have failed its foreign key) or waits for
// this statement's commit and takes the ban or the membership with it.
// Without the lock, a delete committing after this statement's snapshot but
// before its foreign-key check would still fail it.
const banMember = statement<{ was_member: boolean }>(
  'members_ban',
  `WITH room AS (SELECT id FROM rooms WHERE id = $1 FOR KEY SHARE),
        banned AS (
          INSERT INTO room_bans (room_id, user_id, created_at) SELECT id, $2::bigint, $3::bigint FROM room
          ON CONFLICT DO NOTHING),
        removed AS (DELETE FROM room_members WHERE room_id IN (SELECT id FROM room) AND user_id = $2::bigint RETURNING 1)
   SELECT EXISTS (SELECT 1 FROM removed) AS was_member`,
);
const admitMember = statement(
  'members_admit',
  `WITH room AS (SELECT id FROM rooms WHERE id = $1 FOR KEY SHARE),
        lifted AS (DELETE FROM room_bans WHERE room_id IN (SELECT id FROM room) AND user_id = $2::bigint)
   INSERT INTO room_members (room_id, user_id, joined_at) SELECT id, $2::bigint, $3::bigint FROM room
   ON CONFLICT DO NOTHING`,
);

export function createRoomsRepository(pool: Pool) {
  const get = async (id: string): Promise<RoomRecord | undefined> => {
    const { rows } = await roomById(pool, [id]);
    return rows[0] && toRoom(rows[0]);
  };

  return {
    async create(room: NewRoomRecord): Promise<RoomRecord> {
      const members = room.members ?? [];
      const result = await insertRoom(pool, [
        room.id,
        room.kind ?? 'room',
        room.directKey ?? null,
        withoutNul(room.title),
        withoutNul(room.topic),
        room.private,
        room.createdBy,
        Date.now(),
        members.map((m) => m.userId),
        members.map((m) => m.role),
      ]);
      if (result.rows.length === 0) throw new ConflictError(`the room ${room.id} exists`);
      return (await get(room.id))!;
    },
    get,
    async findDirect(directKey: string): Promise<RoomRecord | undefined> {
      const { rows } = await roomByDirectKey(pool, [directKey]);
      return rows[0] && toRoom(rows[0]);
    },
    async standing(roomId: string, userId: number): Promise<MemberStanding> {
      const row = (await standing(pool, [roomId, userId])).rows[0]!;
      return { role: row.role ?? null, banned: row.banned };
    },
    async setRole(roomId: string, userId: number, role: RoomRole): Promise<boolean> {
      return ((await setRole(pool, [roomId, userId, role])).rowCount ?? 0) > 0;
    },
    async transferOwnership(roomId: string, fromUserId: number, toUserId: number): Promise<boolean> {
      return ((await transferOwnership(pool, [roomId, fromUserId, toUserId])).rowCount ?? 0) === 2;
    },
    async list(): Promise<RoomRecord[]> {
      return (await allRooms(pool)).rows.map(toRoom);
    },
    async listForUser(userId: number): Promise<RoomForUser[]> {
      const { rows } = await roomsForUser(pool, [userId]);
      return rows.map((row) => ({ ...toRoom(row), joined: row.joined, unread: row.unread, mentions: row.mentions, role: row.role ?? null, memberNames: row.member_names }));
    },
    async update(id: string, patch: RoomPatch): Promise<RoomRecord | undefined> {
      const sets: string[] = [];
      const values: Array<string | boolean> = [];
      const set = (column: string, value: string | boolean) => {
        values.push(value);
        sets.push(`${column} = $${values.length}`);
      };
      if (patch.title !== undefined) set('title', withoutNul(patch.title));
      if (patch.topic !== undefined) set('topic', withoutNul(patch.topic));
      if (patch.private !== undefined) set('private', patch.private);
      if (patch.archived !== undefined) set('archived', patch.archived);
      // Which columns change varies, so this one statement is not a prepared (named) one.
      if (sets.length > 0) await pool.query(`UPDATE rooms SET ${sets.join(', ')} WHERE id = $${values.length + 1}`, [...values, id]);
      return get(id);
    },
    async remove(id: string): Promise<boolean> {
      return ((await deleteRoom(pool, [id])).rowCount ?? 0) > 0;
    },
    async addMember(roomId: string, userId: number): Promise<void> {
      await insertMember(pool, [roomId, userId, Date.now()]);
    },
    async removeMember(roomId: string, userId: number): Promise<boolean> {
      return ((await deleteMember(pool, [roomId, userId])).rowCount ?? 0) > 0;
    },
    async isMember(roomId: string, userId: number): Promise<boolean> {
      return (await memberExists(pool, [roomId, userId])).rows.length > 0;
    },
    async members(roomId: string): Promise<MemberRecord[]> {
      const { rows } = await roomMembers(pool, [roomId]);
      return rows.map((m) => ({ userId: m.user_id, username: m.username, readSeq: m.read_seq, role: m.role }));
    },
    async setReadCursor(roomId: string, userId: number, seq: number): Promise<number> {
      return (await setReadCursor(pool, [seq, roomId, userId])).rows[0]?.read_seq ?? 0;
    },
    async addBan(roomId: string, userId: number): Promise<void> {
      await insertBan(pool, [roomId, userId, Date.now()]);
    },
    async removeBan(roomId: string, userId: number): Promise<boolean> {
      return ((await deleteBan(pool, [roomId, userId])).rowCount ?? 0) > 0;
    },
    async isBanned(roomId: string, userId: number): Promise<boolean> {
      return (await banExists(pool, [roomId, userId])).rows.length > 0;
    },
    async banMember(roomId: string, userId: number): Promise<boolean> {
      return (await banMember(pool, [roomId, userId, Date.now()])).rows[0]!.was_member;
    },
    async admitMember(roomId: string, userId: number): Promise<void> {
      await admitMember(pool, [roomId, userId, Date.now()]);
    },
  };
}
