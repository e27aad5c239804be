/**
 * Steps 5 to 7 (instance roles; last seen, deactivated; the audit log) on a database the previous release filled: SQLite
 * and PostgreSQL at schema 4 with accounts, a guest, a session and a message,
 * opened by today's store. Nobody becomes an admin by the upgrade.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/storage/postgres/postgres-store.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../src/storage/store.js';
import { postgresSchemaAt, sqliteFileAt } from './helpers/older-database.js';
import { databaseUrl, postgresUnavailable } from './helpers/postgres.js';

const VERSION_4_DATA = `
  INSERT INTO users (username, username_key, password_hash, guest, created_at) VALUES ('ann', 'ann', 'h', false, 0), ('gus', 'gus', NULL, true, 0);
  INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('ann-session', 1, 0, 9999999999999);
  INSERT INTO rooms (id, title, private, last_seq, created_by, created_at) VALUES ('team', 'Team', false, 1, 1, 0);
  INSERT INTO room_members (room_id, user_id, joined_at, read_seq, role) VALUES ('team', 1, 0, 1, 'owner');
  INSERT INTO messages (room_id, seq, author_id, text, client_msg_id, created_at) VALUES ('team', 1, 1, 'kept', 'k1', 1);
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function checkUpgraded(store: ChatStore): Promise<void> {
  expect(await store.findUserByName('ann')).toMatchObject({ username: 'ann', role: 'user', passwordHash: 'h', lastSeenAt: null, deactivatedAt: null });
  expect(await store.findSessionUser('ann-session', 0)).toMatchObject({ username: 'ann', role: 'user' });
  expect(await store.listAdmins()).toEqual([]);
  expect((await store.messagesAfter('team', 0, 10)).map((m) => m.text)).toEqual(['kept']);
  // The new column works on the old rows: ann may be made the first admin, the guest may not.
  expect(await store.setUserRole('ann', 'admin')).toBe('changed');
  expect(await store.setUserRole('gus', 'admin')).toBe('no_user');
  expect(await store.listAdmins()).toEqual(['ann']);
  // Step 7's audit log starts empty and takes entries.
  expect(await store.listAudit({ limit: 10 })).toEqual([]);
  await store.appendAudit({ at: 5, actor: 'ann', action: 'kick', target: 'gus', room: 'team', ip: '127.0.0.1', details: { n: 1 } });
  expect(await store.listAudit({ limit: 10, room: 'team' })).toEqual([
    { id: expect.any(Number), at: 5, actor: 'ann', action: 'kick', target: 'gus', room: 'team', ip: '127.0.0.1', details: { n: 1 } },
  ]);
}

describe('migration 5 (instance roles) on SQLite', () => {
  it('upgrades a filled version-4 file: everyone a user, nothing lost', async () => {
    const store = openSqliteStore(await sqliteFileAt(4, VERSION_4_DATA, cleanups), { synchronous: 'FULL' });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});

const postgresSkip = await postgresUnavailable();

describe.skipIf(postgresSkip !== undefined)(`migration 5 on PostgreSQL${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`, () => {
  it('upgrades a filled version-4 schema: everyone a user, nothing lost', async () => {
    const schema = await postgresSchemaAt(4, VERSION_4_DATA, cleanups);
    const store = await openPostgresStore(databaseUrl!, { schema, poolSize: 2 });
    cleanups.push(() => store.close());
    await checkUpgraded(store);
  });
});
