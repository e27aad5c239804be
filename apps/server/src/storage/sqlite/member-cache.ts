import type Database from 'better-sqlite3';
import type { MemberRecord, RoomRole } from '../store.js';

interface CachedMember {
  /** The list's sort key (`users.username_key`, lower-cased ASCII: JS and SQLite order it alike). */
  key: string;
  member: MemberRecord;
}

/**
 * Every room's member list, read from the database once and then kept in step
 * with this process's own writes: a join adds its member where it sorts, a
 * read cursor moves in place, and any other write that may touch memberships
 * (leave, kick, ban, roles, rooms, users, invitations) drops the room's list or
 * all of them, to be read again. Right because an SQLite database has one
 * server process (several nodes need PostgreSQL), so no write escapes it.
 *
 * Why: `joined` lists every member. Reading and sorting them per join was half
 * of the server's main thread while 1,000 users filled one room (a `--cpu-prof`
 * of the join phase: `members` 50 % of busy time, 1.2 of 2.5 s).
 */
export class MemberCache {
  private readonly rooms = new Map<string, CachedMember[]>();
  private readonly all: Database.Statement<[string], { user_id: number; username: string; username_key: string; read_seq: number; role: RoomRole }>;
  private readonly one: Database.Statement<[string, number], { user_id: number; username: string; username_key: string; read_seq: number; role: RoomRole }>;

  constructor(db: Database.Database) {
    const columns = 'm.user_id, u.username, u.username_key, m.read_seq, m.role FROM room_members m JOIN users u ON u.id = m.user_id';
    this.all = db.prepare(`SELECT ${columns} WHERE m.room_id = ? ORDER BY u.username_key`);
    this.one = db.prepare(`SELECT ${columns} WHERE m.room_id = ? AND m.user_id = ?`);
  }

  /** The room's members by username (a copy: the caller may keep it). */
  members(roomId: string): MemberRecord[] {
    let list = this.rooms.get(roomId);
    if (!list) {
      list = this.all.all(roomId).map((row) => ({ key: row.username_key, member: toMember(row) }));
      this.rooms.set(roomId, list);
    }
    return list.map((c) => c.member);
  }

  /** After a committed `addMember`: the member goes in where the list sorts them, unless already there. */
  added(roomId: string, userId: number): void {
    const list = this.rooms.get(roomId);
    if (!list || list.some((c) => c.member.userId === userId)) return;
    const row = this.one.get(roomId, userId);
    if (!row) return;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.key < row.username_key) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, { key: row.username_key, member: toMember(row) });
  }

  /** After a committed `setReadCursor`: the stored cursor replaces the member's (a new object; copies handed out keep theirs). */
  readMoved(roomId: string, userId: number, readSeq: number): void {
    const list = this.rooms.get(roomId);
    const at = list ? list.findIndex((c) => c.member.userId === userId) : -1;
    if (at >= 0) list![at] = { key: list![at]!.key, member: { ...list![at]!.member, readSeq } };
  }

  /** Read the room's list again next time. */
  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  /** Read every list again next time (a write that may touch several rooms: users, rooms, invitations). */
  clear(): void {
    this.rooms.clear();
  }
}

const toMember = (row: { user_id: number; username: string; read_seq: number; role: RoomRole }): MemberRecord => ({
  userId: row.user_id,
  username: row.username,
  readSeq: row.read_seq,
  role: row.role,
});
