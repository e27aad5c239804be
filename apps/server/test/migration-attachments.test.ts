/**
 * The attachments step on a database the previous release filled: SQLite and
 * PostgreSQL at the version before it, with users, a room and messages,
 * opened by today's store. Old messages carry no files; new ones can.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/storage/postgres/postgres-store.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { AttachmentRecord, ChatStore } from '../src/storage/store.js';
import { postgresSchemaAt, sqliteFileAt } from './helpers/older-database.js';
import { databaseUrl, postgresUnavailable } from './helpers/postgres.js';

/** The schema version just before the attachments step (renumber here, and only here, when steps are added before it). */
const BEFORE_ATTACHMENTS = 8;

const FILLED = `
  INSERT INTO users (username, username_key, password_hash, guest, created_at) VALUES ('ann', 'ann', 'h', false, 0), ('bo', 'bo', 'h', false, 0);
  INSERT INTO rooms (id, title, private, last_seq, created_by, created_at) VALUES ('team', 'Team', false, 2, 1, 0);
  INSERT INTO room_members (room_id, user_id, joined_at, read_seq, role) VALUES ('team', 1, 0, 2, 'owner'), ('team', 2, 0, 0, 'member');
  INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at) VALUES ('team', 1, 1, 'before', 'k1', 1), ('team', 2, 2, 'also', 'k2', 2);
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const upload = (id: string, uploaderId: number, size: number): AttachmentRecord => ({
  id,
  roomId: 'team',
  uploaderId,
  messageId: null,
  name: `${id}.png`,
  size,
  contentType: 'image/png',
  width: 4,
  height: 3,
  thumbnail: true,
  createdAt: 10,
});

async function checkUpgraded(store: ChatStore): Promise<void> {
  const old = await store.messagesAfter('team', 0, 10);
  expect(old.map((m) => [m.text, m.attachments])).toEqual([
    ['before', undefined],
    ['also', undefined],
  ]);
  expect(await store.uploadedBytes(1)).toBe(0);
  const id = 'A'.repeat(22);
  expect(await store.createAttachment(upload(id, 1, 100), 150)).toBe('stored');
  expect(await store.createAttachment(upload('B'.repeat(22), 1, 100), 150)).toBe('over_quota');
  const [stored] = await store.appendMessages([
    { roomId: 'team', authorId: 1, text: 'with a file', clientMsgId: 'k3', ts: 3, attachments: [upload(id, 1, 100)] },
  ]);
  expect(stored).toMatchObject({ status: 'stored', message: { seq: 3 } });
  const [, , third] = await store.messagesAfter('team', 0, 10);
  expect(third!.attachments).toEqual([{ id, name: `${id}.png`, size: 100, contentType: 'image/png', width: 4, height: 3, thumbnail: true }]);
  expect(await store.getAttachment(id)).toMatchObject({ messageId: third!.id, uploaderId: 1 });
}

describe('the attachments migration on SQLite', () => {
  it(`upgrades a filled version-${BEFORE_ATTACHMENTS} file: old messages without files, new ones with`, async () => {
    const store = openSqliteStore(await sqliteFileAt(BEFORE_ATTACHMENTS, FILLED, cleanups), { synchronous: 'FULL' });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});

const postgresSkip = await postgresUnavailable();

describe.skipIf(postgresSkip !== undefined)(`the attachments migration on PostgreSQL${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`, () => {
  it(`upgrades a filled version-${BEFORE_ATTACHMENTS} schema: old messages without files, new ones with`, async () => {
    const schema = await postgresSchemaAt(BEFORE_ATTACHMENTS, FILLED, cleanups);
    const store = await openPostgresStore(databaseUrl!, { schema, poolSize: 2 });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});
