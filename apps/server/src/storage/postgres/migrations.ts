import type { Pool, PoolClient } from 'pg';
import { indexStoredMessages } from './search-repository.js';
import { inTransaction } from './sql.js';

/**
 * Schema changes, applied in order at start-up and recorded in
 * `schema_migrations`. Never edit a released step: add a new one.
 *
 * The schema is the SQLite one (sqlite/migrations.ts) in PostgreSQL types:
 * BIGINT for ids, seqs and epoch-millisecond timestamps, BOOLEAN for flags.
 * Key columns that are sorted on (room ids, username keys) use the "C"
 * collation: byte order, as SQLite sorts them, whatever the database's locale.
 */
/** A step is SQL, or SQL and then a data step in JavaScript (in the same transaction). */
type Migration = string | { sql: string; data: (client: PoolClient) => Promise<void> };

const MIGRATIONS: Migration[] = [
  // 1: users, sessions, rooms, membership, bans, messages.
  `
  CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT COLLATE "C" NOT NULL UNIQUE,  -- lower-cased: usernames are unique regardless of case
    password_hash TEXT,                             -- NULL for guests
    guest BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,                    -- SHA-256 of the token; the token itself is never stored
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX sessions_user ON sessions(user_id);
  CREATE TABLE rooms (
    id TEXT COLLATE "C" PRIMARY KEY,
    title TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    private BOOLEAN NOT NULL DEFAULT FALSE,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    last_seq BIGINT NOT NULL DEFAULT 0,             -- the room's counter: seq is assigned from it, gapless
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE room_members (
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at BIGINT NOT NULL,
    read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
  );
  CREATE INDEX room_members_user ON room_members(user_id);
  CREATE TABLE room_bans (
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
  );
  CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT,
    UNIQUE (room_id, seq),
    UNIQUE (author_id, client_msg_id)               -- a re-sent message is not stored twice
  );
  `,
  // 2: the re-send key leads with client_msg_id, as in SQLite (see its step 2):
  // ids that grow with time then land together at the index's end instead of
  // on one page per author in every commit.
  `
  ALTER TABLE messages
    DROP CONSTRAINT messages_author_id_client_msg_id_key,
    ADD CONSTRAINT messages_client_msg_id_author_id_key UNIQUE (client_msg_id, author_id);
  `,
  // 3: room roles, direct conversations, invitations, as in SQLite (see its step 3).
  `
  ALTER TABLE room_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'moderator', 'member'));
  UPDATE room_members m SET role = 'owner' FROM rooms r WHERE r.id = m.room_id AND r.created_by = m.user_id;
  ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'direct'));
  ALTER TABLE rooms ADD COLUMN direct_key TEXT;
  CREATE UNIQUE INDEX rooms_direct_key ON rooms(direct_key) WHERE direct_key IS NOT NULL;
  CREATE TABLE invitations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    invited_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT UNIQUE,
    expires_at BIGINT,
    uses_left INTEGER,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
    created_at BIGINT NOT NULL,
    answered_at BIGINT,
    CHECK ((user_id IS NULL) <> (token_hash IS NULL))
  );
  CREATE UNIQUE INDEX invitations_pending ON invitations(room_id, user_id) WHERE state = 'pending' AND user_id IS NOT NULL;
  CREATE INDEX invitations_user ON invitations(user_id, state) WHERE user_id IS NOT NULL;
  CREATE INDEX invitations_room ON invitations(room_id, state);
  `,
  // 4: replies, pins, reactions, mentions (as in SQLite's step 4).
  `
  ALTER TABLE messages ADD COLUMN reply_to BIGINT;
  ALTER TABLE messages ADD COLUMN pinned_at BIGINT;
  CREATE INDEX messages_replies ON messages(reply_to, seq) WHERE reply_to IS NOT NULL;
  CREATE INDEX messages_pinned ON messages(room_id, pinned_at) WHERE pinned_at IS NOT NULL;
  CREATE TABLE reactions (
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji TEXT COLLATE "C" NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
  );
  CREATE TABLE mentions (
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id, seq)
  );
  CREATE INDEX mentions_room ON mentions(room_id, seq);
  `,
  // 5: instance roles (as in SQLite's step 5).
  `
  ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user'));
  CREATE INDEX users_admins ON users(role) WHERE role = 'admin';
  `,
  // 6: last seen, deactivated (as in SQLite's step 6).
  `
  ALTER TABLE users ADD COLUMN last_seen_at BIGINT;
  ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
  `,
  // 7: the audit log (as in SQLite's step 7).
  `
  CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    target TEXT,
    room TEXT COLLATE "C",
    ip TEXT,
    details JSONB NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_log_action ON audit_log(action, id);
  CREATE INDEX audit_log_actor ON audit_log(actor, id);
  CREATE INDEX audit_log_room ON audit_log(room, id) WHERE room IS NOT NULL;
  `,
  // 8: full-text search: each message's words as a tsvector (search-text.ts) under a GIN
  // index. The vectors of the messages already stored are written by the data step:
  // they are folded in JavaScript, as new messages are, so that both stores find alike.
  {
    sql: `
    ALTER TABLE messages ADD COLUMN search_vector tsvector;   -- NULL once deleted
    CREATE INDEX messages_search ON messages USING gin (search_vector);
    `,
    data: (client) => indexStoredMessages(client),
  },
  // 9: attachments (as in SQLite's step 9).
  `
  CREATE TABLE attachments (
    id TEXT COLLATE "C" PRIMARY KEY,
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    uploader_id BIGINT NOT NULL REFERENCES users(id),
    message_id BIGINT REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    thumbnail BOOLEAN NOT NULL DEFAULT false,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX attachments_message ON attachments(message_id, position) WHERE message_id IS NOT NULL;
  CREATE INDEX attachments_unattached ON attachments(created_at) WHERE message_id IS NULL;
  CREATE INDEX attachments_uploader ON attachments(uploader_id);
  CREATE INDEX attachments_room ON attachments(room_id);
  `,
];

/** The first key of the advisory lock: "chat" in ASCII, so the lock is recognisable in pg_locks. */
const LOCK_CLASS = 0x63686174;

/**
 * Brings the schema on the connections' search_path up to date; returns the
 * version it is at. Every pending step runs in one transaction (PostgreSQL's
 * DDL is transactional, so a failed upgrade leaves the previous version).
 *
 * Several nodes may start at once against a new database: the transaction
 * first takes an advisory lock, so one node applies the steps while the others
 * wait, then find `schema_migrations` up to date and apply nothing. The lock
 * is keyed by schema, so separate schemas (the tests') never wait for each other.
 * `target`: a test's older schema; default all steps.
 */
export async function migrate(pool: Pool, target = MIGRATIONS.length): Promise<number> {
  await inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))", [LOCK_CLASS]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const { rows } = await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
    for (let version = rows[0]!.v + 1; version <= target; version++) {
      const step = MIGRATIONS[version - 1]!;
      await client.query(typeof step === 'string' ? step : step.sql);
      if (typeof step !== 'string') await step.data(client);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
    }
    return true;
  });
  return target;
}
