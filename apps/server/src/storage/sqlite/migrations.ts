import type { Database } from 'better-sqlite3';
import { searchWords } from '../store.js';

/**
 * Schema changes, applied in order at start-up; each runs once, in a
 * transaction, and is recorded in `schema_migrations`. Never edit a released
 * step: add a new one.
 */
const MIGRATIONS: string[] = [
  // 1: users, sessions, rooms, membership, bans, messages.
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,       -- lower-cased: usernames are unique regardless of case
    password_hash TEXT,                      -- NULL for guests
    guest INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,             -- SHA-256 of the token; the token itself is never stored
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_user ON sessions(user_id);
  CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    private INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER NOT NULL DEFAULT 0,     -- the room's counter: seq is assigned from it, gapless
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE room_members (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX room_members_user ON room_members(user_id);
  CREATE TABLE room_bans (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    deleted_at INTEGER,
    UNIQUE (room_id, seq),
    UNIQUE (author_id, client_msg_id)        -- a re-sent message is not stored twice
  );
  `,
  // 2: the re-send key leads with client_msg_id. Keyed by author first, each
  // commit touched one page of that index per author in it — a write to the
  // log per page — and doubled the writer's cost per message when a batch
  // spans many authors (19.1 → 9.4 µs per row, 100 authors in 100 rooms).
  // Keyed by the client's id first, ids that grow with time (the web
  // client's, UUIDv7s, ULIDs, counters) land together at the index's end.
  // A constraint of the table cannot be dropped, so the table is rebuilt:
  // once, in this transaction. Nothing references messages; users are never
  // deleted (their foreign key would want an index led by author_id).
  `
  CREATE TABLE messages_v2 (
    id INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    deleted_at INTEGER,
    UNIQUE (room_id, seq),
    UNIQUE (client_msg_id, author_id)        -- a re-sent message is not stored twice
  );
  INSERT INTO messages_v2 (id, room_id, seq, author_id, text, client_msg_id, created_at, edited_at, deleted_at)
    SELECT id, room_id, seq, author_id, text, client_msg_id, created_at, edited_at, deleted_at FROM messages ORDER BY id;
  DROP TABLE messages;
  ALTER TABLE messages_v2 RENAME TO messages;
  `,
  // 3: room roles, direct conversations, invitations. The creator of a room
  // who is still in it becomes its owner; everyone else stays a member.
  `
  ALTER TABLE room_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'moderator', 'member'));
  UPDATE room_members SET role = 'owner'
   WHERE user_id = (SELECT created_by FROM rooms WHERE rooms.id = room_members.room_id);
  ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'direct'));
  ALTER TABLE rooms ADD COLUMN direct_key TEXT;   -- a direct conversation's sorted member ids: one 1:1 per pair
  CREATE UNIQUE INDEX rooms_direct_key ON rooms(direct_key) WHERE direct_key IS NOT NULL;
  CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,   -- the invited user; NULL for a link
    token_hash TEXT UNIQUE,                                    -- a link's token, hashed; NULL for a user's
    expires_at INTEGER,                                        -- NULL: never
    uses_left INTEGER,                                         -- a link's remaining uses
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
    created_at INTEGER NOT NULL,
    answered_at INTEGER,
    CHECK ((user_id IS NULL) <> (token_hash IS NULL))
  );
  CREATE UNIQUE INDEX invitations_pending ON invitations(room_id, user_id) WHERE state = 'pending' AND user_id IS NOT NULL;
  CREATE INDEX invitations_user ON invitations(user_id, state) WHERE user_id IS NOT NULL;
  CREATE INDEX invitations_room ON invitations(room_id, state);
  `,
  // 4: replies, pins, reactions, mentions. Existing messages are no replies,
  // pinned nowhere, with no reactions: the new columns' NULLs say so.
  `
  ALTER TABLE messages ADD COLUMN reply_to INTEGER;         -- the parent's id, same room (checked by the domain)
  ALTER TABLE messages ADD COLUMN pinned_at INTEGER;
  CREATE INDEX messages_replies ON messages(reply_to, seq) WHERE reply_to IS NOT NULL;
  CREATE INDEX messages_pinned ON messages(room_id, pinned_at) WHERE pinned_at IS NOT NULL;
  CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE mentions (                                    -- who a message mentions, by its seq: counted past the read cursor
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX mentions_room ON mentions(room_id, seq);
  `,
  // 5: instance roles. Every existing account stays a user; the first admin is made with
  // `pnpm admin promote <username>` (src/cli/admin.ts) or by ADMIN_TOKEN over the admin API.
  `
  ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user'));
  CREATE INDEX users_admins ON users(role) WHERE role = 'admin';
  `,
  // 6: what the admin's user management reads: when an account was last seen, and whether it is deactivated.
  `
  ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
  ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
  `,
  // 7: the audit log of admin and moderator actions. Names, not foreign keys: an entry outlives what it names.
  `
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    room TEXT,
    ip TEXT,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_log_action ON audit_log(action, id);
  CREATE INDEX audit_log_actor ON audit_log(actor, id);
  CREATE INDEX audit_log_room ON audit_log(room, id) WHERE room IS NOT NULL;
  `,
  // 8: full-text search. The index holds each message's words as searchWords
  // (storage/store.ts) gives them, so both stores split and fold text alike;
  // contentless, since the text is in messages already. The repositories
  // write it in the transaction of each insert, edit, deletion and room
  // deletion (messages-repository.ts, rooms-repository.ts; since migration 10
  // new words go through the backlog), not triggers: an
  // FTS5 write from a trigger runs in a statement savepoint, and FTS5 flushes
  // its pending words at every savepoint — a segment per message, 48 µs each
  // against 7 written from the batch's own statement. The messages stored
  // before are indexed here, through search_words (registered by migrate).
  // Prefix indexes for 2 and 3 characters: a short prefix would otherwise
  // merge every word it begins (docs/benchmarks.md says what they cost).
  `
  CREATE VIRTUAL TABLE messages_fts USING fts5(words, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3');
  INSERT INTO messages_fts (rowid, words) SELECT id, search_words(text) FROM messages WHERE deleted_at IS NULL;
  `,
  // 9: attachments. A row per upload; its bytes live in the file store under its id
  // (chat/file-store.ts). Unattached (message_id NULL) until a send carries it; a room's
  // deletion takes its rows along, and the domain deletes their files.
  `
  CREATE TABLE attachments (
    id TEXT PRIMARY KEY,                     -- random (chat/attachments.ts): the URL cannot be guessed
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    uploader_id INTEGER NOT NULL REFERENCES users(id),
    message_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,     -- its place among the message's files
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,              -- sniffed from the bytes
    width INTEGER,
    height INTEGER,
    thumbnail INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX attachments_message ON attachments(message_id, position) WHERE message_id IS NOT NULL;
  CREATE INDEX attachments_unattached ON attachments(created_at) WHERE message_id IS NULL;
  CREATE INDEX attachments_uploader ON attachments(uploader_id);
  CREATE INDEX attachments_room ON attachments(room_id);
  `,
  // 10: the search index's backlog. A message stored or edited is listed here in
  // its own transaction and moved into messages_fts a few hundred at a time by
  // the indexer (search-indexer.ts): FTS5 writes a segment per commit, about
  // 100 µs each however little it holds, which a commit per message paid.
  // Searches read what is listed here too, so nothing stored is unfindable.
  `
  CREATE TABLE search_backlog (message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE);
  `,
];

/** The schema version today's code migrates to. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the steps up to `target` (all of them unless a test wants an older schema); returns the version reached. */
export function migrate(db: Database, target = MIGRATIONS.length): number {
  // What step 8 indexes the stored messages with: their words, space-separated.
  db.function('search_words', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? searchWords(text).join(' ') : ''));
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const current = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (let version = current + 1; version <= target; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      record.run(version, Date.now());
    })();
  }
  return Math.max(current, target);
}
