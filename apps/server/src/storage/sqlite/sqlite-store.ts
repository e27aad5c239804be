import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ChatStore } from '../store.js';
import { openConnection } from './connection.js';
import { createAttachmentsRepository } from './attachments-repository.js';
import { createAuditRepository } from './audit-repository.js';
import { createInvitationsRepository } from './invitations-repository.js';
import { MemberCache } from './member-cache.js';
import { createMessagesRepository } from './messages-repository.js';
import { migrate } from './migrations.js';
import { createRoomsRepository } from './rooms-repository.js';
import { createSearchRepository } from './search-repository.js';
import { SearchIndexer } from './search-indexer.js';
import { Checkpointer, WriterThread, type WriteTarget } from './writer.js';
import { createSessionsRepository, createUsersRepository } from './users-repository.js';

/** The database file cannot be used as it is (empty, cut short, not SQLite): the server must not start on it. */
export class DatabaseFileError extends Error {
  override name = 'DatabaseFileError';
}

/**
 * Refuses a file that exists but cannot be the chat's database, before SQLite
 * opens it: SQLite would take an empty file for a new database (and start
 * an empty chat over the one that was lost), and reads a file cut short
 * without complaint until a query reaches a missing page.
 */
export function checkDatabaseFile(file: string): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return; // none yet: a new database is made
  }
  const where = path.resolve(file);
  if (size === 0) {
    throw new DatabaseFileError(`${where} is empty (0 bytes), so it holds no chat; restore it from a backup, or delete it to start a new database`);
  }
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (size < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') {
    throw new DatabaseFileError(`${where} is not an SQLite database (${size} bytes); restore it from a backup, or point DATABASE_PATH elsewhere`);
  }
  // The header's page count is valid when its change counter matches the "version-valid-for" number (SQLite's file format, §1.3).
  const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
  const pages = header.readUInt32BE(28);
  if (header.readUInt32BE(24) === header.readUInt32BE(92) && size < pages * pageSize) {
    throw new DatabaseFileError(`${where} is cut short: ${size} bytes of the ${pages * pageSize} its header counts; restore it from a backup`);
  }
}

export interface SqliteStoreOptions {
  /** FULL: a commit survives power loss; NORMAL: it survives a process crash (WAL). Default FULL. */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Commit chat messages on a thread of their own (default, for a file), so
   * the fsync does not stall the sockets. false: on the calling thread.
   */
  writerThread?: boolean;
  /** The checkpointer thread's pace (see checkpoint-thread.ts); the defaults suit a server. */
  checkpoint?: { intervalMs?: number; restartFrames?: number };
}

/**
 * Opens (creating folder and file if needed) and migrates the SQLite database,
 * and returns the chat store over it. better-sqlite3 is synchronous: every
 * statement is prepared once here and runs without a round trip.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): ChatStore & { readonly db: Database.Database } {
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    checkDatabaseFile(file);
  }
  const synchronous = options.synchronous ?? 'FULL';
  // (An in-memory database is private to its connection: no second thread can share it.)
  const threaded = options.writerThread !== false && file !== ':memory:';
  let db: Database.Database;
  try {
    db = openConnection(file, synchronous, { autoCheckpoint: !threaded });
    migrate(db);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new DatabaseFileError(`${path.resolve(file)} is damaged (${(err as Error).message}); restore it from a backup (docs/operations.md#backups)`);
    }
    throw err;
  }
  let writer: WriterThread | undefined;
  let checkpointer: Checkpointer | undefined;
  if (threaded) {
    // Set by the checkpointer when the log has grown long, cleared by the writer once it has finished the copy.
    const logIsLong = new Int32Array(new SharedArrayBuffer(4));
    writer = new WriterThread(file, synchronous, logIsLong);
    checkpointer = new Checkpointer(file, synchronous, logIsLong, options.checkpoint?.intervalMs, options.checkpoint?.restartFrames);
  }

  const users = createUsersRepository(db);
  const sessions = createSessionsRepository(db);
  const rooms = createRoomsRepository(db);
  const invitations = createInvitationsRepository(db);
  const messages = createMessagesRepository(db);
  const audit = createAuditRepository(db);
  const search = createSearchRepository(db);
  const attachments = createAttachmentsRepository(db);
  // Without a writer thread the index is kept here, on the connection that writes.
  const indexer = writer ? undefined : new SearchIndexer(messages);
  const indexed = <A extends unknown[], R>(write: (...args: A) => R) => (...args: A): R => {
    const result = write(...args);
    indexer!.afterCommit();
    return result;
  };
  sessions.purgeExpired(Date.now());
  const health = db.prepare('SELECT 1 AS ok');

  // Reads run here, on the main thread's connection (WAL: they never wait for
  // the writer). Writes go to the writer thread when there is one.
  const write = writer
    ? <T>(target: WriteTarget, method: string) =>
        (...args: unknown[]): Promise<T> =>
          writer.call<T>(target, method, args)
    : undefined;
  const members = new MemberCache(db);
  // What a write did to the member lists, told to the cache once it is committed (or failed: then forgotten too).
  const then =
    <F extends (...args: never[]) => unknown>(op: F, done: (args: readonly unknown[], result: unknown, ok: boolean) => void): F =>
    ((...args: Parameters<F>) => {
      let result: unknown;
      try {
        result = op(...args);
      } catch (err) {
        done(args, undefined, false);
        throw err;
      }
      if (!(result instanceof Promise)) {
        done(args, result, true);
        return result;
      }
      return result.then(
        (value: unknown) => {
          done(args, value, true);
          return value;
        },
        (err: unknown) => {
          done(args, undefined, false);
          throw err;
        },
      );
    }) as F;
  const forgetRoom = <F extends (...args: never[]) => unknown>(op: F) => then(op, ([roomId]) => members.forget(roomId as string));
  const forgetAll = <F extends (...args: never[]) => unknown>(op: F) => then(op, () => members.clear());

  const store: ChatStore & { readonly db: Database.Database } = {
    db,
    createUser: write ? write('users', 'create') : users.create,
    findUserByName: users.findByName,
    setUserRole: write ? write('users', 'setRole') : users.setRole,
    listAdmins: users.listAdmins,
    createSession: write ? write('sessions', 'create') : sessions.create,
    findSessionUser: sessions.findUser,
    deleteSession: write ? write('sessions', 'remove') : sessions.remove,
    listSessions: sessions.listOf,
    deleteSessionsOf: write ? write('sessions', 'removeAllOf') : sessions.removeAllOf,
    setPasswordHash: write ? write('users', 'setPasswordHash') : users.setPasswordHash,
    touchUser: write ? write('users', 'touchUser') : users.touchUser,
    setDeactivated: write ? write('users', 'setDeactivated') : users.setDeactivated,
    listUsers: users.listUsers,
    deleteUser: write ? write('users', 'deleteUser') : users.deleteUser,
    inactiveGuests: users.inactiveGuests,
    appendAudit: write ? write('audit', 'append') : audit.append,
    listAudit: audit.list,
    createRoom: write ? write('rooms', 'create') : rooms.create,
    getRoom: rooms.get,
    findDirectRoom: rooms.findDirect,
    listRooms: rooms.list,
    listRoomsForUser: rooms.listForUser,
    updateRoom: write ? write('rooms', 'update') : rooms.update,
    deleteRoom: write ? write('rooms', 'remove') : rooms.remove,
    addMember: write ? write('rooms', 'addMember') : rooms.addMember,
    removeMember: write ? write('rooms', 'removeMember') : rooms.removeMember,
    isMember: rooms.isMember,
    listMembers: (roomId) => members.members(roomId),
    memberStanding: rooms.standing,
    setMemberRole: write ? write('rooms', 'setRole') : rooms.setRole,
    transferOwnership: write ? write('rooms', 'transferOwnership') : rooms.transferOwnership,
    setReadCursor: write ? write('rooms', 'setReadCursor') : rooms.setReadCursor,
    addBan: write ? write('rooms', 'addBan') : rooms.addBan,
    removeBan: write ? write('rooms', 'removeBan') : rooms.removeBan,
    isBanned: rooms.isBanned,
    // One request each: the writer thread runs a request in a savepoint of its own, so both halves commit or neither.
    banMember: write ? write('rooms', 'banMember') : rooms.banMember,
    admitMember: write ? write('rooms', 'admitMember') : rooms.admitMember,
    createInvitation: write ? write('invitations', 'create') : invitations.create,
    getInvitation: invitations.get,
    findInvitationByToken: invitations.findByToken,
    pendingInvitationsFor: invitations.pendingFor,
    roomInvitations: invitations.forRoom,
    answerInvitation: write ? write('invitations', 'answer') : invitations.answer,
    redeemInvitationLink: write ? write('invitations', 'redeem') : invitations.redeem,
    revokeInvitation: write ? write('invitations', 'revoke') : invitations.revoke,
    appendMessages: writer ? (batch) => writer.append(batch, messages.authorName) : indexed(messages.append),
    // The writer thread takes requests one after another from its queue.
    appendsInOrder: writer !== undefined,
    getMessage: messages.get,
    messagesAfter: messages.after,
    messagesBefore: messages.before,
    editMessage: write ? write('messages', 'edit') : indexed((roomId: string, id: number, text: string, at: number) => messages.edit(roomId, id, text, at)),
    deleteMessage: write ? write('messages', 'remove') : messages.remove,
    repliesTo: messages.repliesTo,
    addReaction: write ? write('messages', 'addReaction') : messages.addReaction,
    removeReaction: write ? write('messages', 'removeReaction') : messages.removeReaction,
    setPinned: write ? write('messages', 'setPinned') : messages.setPinned,
    pinnedMessages: messages.pinnedMessages,
    membersNamed: messages.membersNamed,
    searchMessages: search.search,
    createAttachment: write ? write('attachments', 'create') : attachments.create,
    getAttachment: attachments.get,
    uploadedBytes: attachments.uploadedBytes,
    deleteUnattachedAttachments: write ? write('attachments', 'deleteUnattached') : attachments.deleteUnattached,
    roomAttachmentIds: attachments.roomIds,
    knownAttachmentIds: attachments.knownIds,
    ping: () => (health.get() as { ok: number } | undefined)?.ok === 1,
    close: async () => {
      // The writer first: it finishes the batch it holds, then the last connection closes (and checkpoints).
      await writer?.close();
      await checkpointer?.close();
      if (indexer && db.open) indexer.flush();
      indexer?.close();
      if (db.open) db.close();
    },
  };
  return {
    ...store,
    addMember: then(store.addMember, ([roomId, userId], _, ok) =>
      !ok ? members.forget(roomId as string) : members.added(roomId as string, userId as number),
    ),
    setReadCursor: then(store.setReadCursor, ([roomId, userId], seq, ok) =>
      !ok ? members.forget(roomId as string) : members.readMoved(roomId as string, userId as number, seq as number),
    ),
    removeMember: forgetRoom(store.removeMember),
    setMemberRole: forgetRoom(store.setMemberRole),
    transferOwnership: forgetRoom(store.transferOwnership),
    banMember: forgetRoom(store.banMember),
    admitMember: forgetRoom(store.admitMember),
    deleteRoom: forgetRoom(store.deleteRoom),
    createRoom: forgetAll(store.createRoom),
    setDeactivated: forgetAll(store.setDeactivated),
    deleteUser: forgetAll(store.deleteUser),
    answerInvitation: forgetAll(store.answerInvitation),
    redeemInvitationLink: forgetAll(store.redeemInvitationLink),
  };
}
