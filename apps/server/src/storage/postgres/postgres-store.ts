import pg from 'pg';
import type { ChatStore } from '../store.js';
import { createInvitationsRepository } from './invitations-repository.js';
import { createAttachmentsRepository } from './attachments-repository.js';
import { createAuditRepository } from './audit-repository.js';
import { createMessagesRepository } from './messages-repository.js';
import { createSearchRepository } from './search-repository.js';
import { migrate } from './migrations.js';
import { createRoomsRepository } from './rooms-repository.js';
import { redactUrl } from '../../redact-url.js';
import { int8AsNumber } from './sql.js';
import { createSessionsRepository, createUsersRepository } from './users-repository.js';

export interface PostgresStoreOptions {
  /**
   * A schema of its own, created if missing and put on every pooled
   * connection's search_path (tests give each server one). Default: the
   * connection's own search_path, normally `public`.
   */
  schema?: string;
  /** Connections the pool opens at most. Default 10. */
  poolSize?: number;
  /**
   * How long a query waits for its answer before it fails with
   * QUERY_TIMEOUT (and its connection leaves the pool): a database that
   * stops answering without closing its connections (a hung host, a
   * network that drops packets) fails requests instead of holding them
   * for as long as TCP keepalive takes. Default 10 s.
   */
  queryTimeoutMs?: number;
  /**
   * Told when an idle pooled connection fails (the database restarted, the
   * network dropped); the pool replaces it on the next query. Default: ignored.
   */
  onError?: (err: Error) => void;
}

/** An unquoted PostgreSQL identifier, so it can go into `search_path` and DDL as it is. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PING_TIMEOUT_MS = 3000;

/**
 * Connects to PostgreSQL at `url` (`postgres://…` or `postgresql://…`),
 * migrates the schema, and returns the chat store over a connection pool.
 * Several servers may open the same database at once (see migrations.ts and
 * messages-repository.ts for how they share it). Rejects with the URL, its
 * password masked, when the database cannot be reached or migrated.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<ChatStore> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`not a PostgreSQL URL: ${redactUrl(url)} (expected postgres://…)`);
  const { schema, poolSize = 10, queryTimeoutMs = 10_000 } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}: 1-63 of a-z, 0-9 and _, not starting with a digit`);
  }
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`poolSize must be a positive integer, not ${poolSize}`);

  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: int8AsNumber,
    // A database that does not answer fails the request (and /healthz) instead of hanging it.
    connectionTimeoutMillis: 5000,
    query_timeout: queryTimeoutMs,
    keepAlive: true,
    fallback_application_name: 'chat-server',
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // Without a listener, an idle connection's error would be an uncaught 'error' event: a crash.
  pool.on('error', (err) => options.onError?.(err));

  const users = createUsersRepository(pool);
  const sessions = createSessionsRepository(pool);
  const rooms = createRoomsRepository(pool);
  const invitations = createInvitationsRepository(pool);
  const messages = createMessagesRepository(pool);
  const search = createSearchRepository(pool);
  const audit = createAuditRepository(pool);
  const attachments = createAttachmentsRepository(pool);
  try {
    if (schema !== undefined) {
      try {
        await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (err) {
        // IF NOT EXISTS is not atomic: a node creating it at the same moment makes ours fail, and that is fine.
        if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P06') throw err;
      }
    }
    await migrate(pool);
    await sessions.purgeExpired(Date.now());
  } catch (err) {
    // The error that matters is the one thrown below; a pool that will not end cleanly adds nothing.
    await pool.end().catch(() => {});
    throw new Error(`PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }

  let closed = false;
  return {
    createUser: users.create,
    findUserByName: users.findByName,
    setUserRole: users.setRole,
    listAdmins: users.listAdmins,
    createSession: sessions.create,
    findSessionUser: sessions.findUser,
    deleteSession: sessions.remove,
    listSessions: sessions.listOf,
    deleteSessionsOf: sessions.removeAllOf,
    setPasswordHash: users.setPasswordHash,
    touchUser: users.touchUser,
    setDeactivated: users.setDeactivated,
    listUsers: users.listUsers,
    deleteUser: users.deleteUser,
    inactiveGuests: users.inactiveGuests,
    appendAudit: audit.append,
    listAudit: audit.list,
    createRoom: rooms.create,
    getRoom: rooms.get,
    findDirectRoom: rooms.findDirect,
    listRooms: rooms.list,
    listRoomsForUser: rooms.listForUser,
    updateRoom: rooms.update,
    deleteRoom: rooms.remove,
    addMember: rooms.addMember,
    removeMember: rooms.removeMember,
    isMember: rooms.isMember,
    listMembers: rooms.members,
    memberStanding: rooms.standing,
    setMemberRole: rooms.setRole,
    transferOwnership: rooms.transferOwnership,
    setReadCursor: rooms.setReadCursor,
    addBan: rooms.addBan,
    removeBan: rooms.removeBan,
    isBanned: rooms.isBanned,
    banMember: rooms.banMember,
    admitMember: rooms.admitMember,
    createInvitation: invitations.create,
    getInvitation: invitations.get,
    findInvitationByToken: invitations.findByToken,
    pendingInvitationsFor: invitations.pendingFor,
    roomInvitations: invitations.forRoom,
    answerInvitation: invitations.answer,
    redeemInvitationLink: invitations.redeem,
    revokeInvitation: invitations.revoke,
    appendMessages: messages.append,
    getMessage: messages.get,
    messagesAfter: messages.after,
    messagesBefore: messages.before,
    editMessage: messages.edit,
    deleteMessage: messages.remove,
    repliesTo: messages.repliesTo,
    addReaction: messages.addReaction,
    removeReaction: messages.removeReaction,
    setPinned: messages.setPinned,
    pinnedMessages: messages.pinnedMessages,
    membersNamed: messages.membersNamed,
    searchMessages: search.search,
    createAttachment: attachments.create,
    getAttachment: attachments.get,
    uploadedBytes: attachments.uploadedBytes,
    deleteUnattachedAttachments: attachments.deleteUnattached,
    roomAttachmentIds: attachments.roomIds,
    knownAttachmentIds: attachments.knownIds,
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, PING_TIMEOUT_MS, false)));
      try {
        // Settled either way, so a query failing after the timeout won is not an unhandled rejection.
        return await Promise.race([pool.query('SELECT 1').then(() => true, () => false), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
