/**
 * `pnpm admin <promote|demote|list> [username]`: instance admins, from the
 * machine the server runs on — how the first admin is made. It opens the
 * server's own database (DATABASE_URL, else DATABASE_PATH, relative paths
 * from where pnpm was run) and may run while the server does: the change
 * counts on the next request (the role is read with every session).
 */
import path from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { openPostgresStore } from '../storage/postgres/postgres-store.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../storage/store.js';

const USAGE = 'usage: pnpm admin promote <username> | demote <username> | list';

async function main(): Promise<number> {
  const [command, username] = process.argv.slice(2);
  if (!command || (command !== 'list' && !username) || !['promote', 'demote', 'list'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const base = process.env.INIT_CWD ?? process.cwd();
  const store: ChatStore = config.databaseUrl
    ? await openPostgresStore(config.databaseUrl, { poolSize: 1 })
    : openSqliteStore(path.resolve(base, config.databasePath), { writerThread: false });
  try {
    if (command === 'list') {
      const admins = await store.listAdmins();
      console.log(admins.length === 0 ? '(no admins yet: pnpm admin promote <username>)' : admins.join('\n'));
      return 0;
    }
    const change = await store.setUserRole(username!, command === 'promote' ? 'admin' : 'user');
    const messages = {
      changed: `${username} is ${command === 'promote' ? 'now an admin' : 'no longer an admin'}`,
      unchanged: `${username} was ${command === 'promote' ? 'an admin' : 'not an admin'} already`,
      no_user: `no account ${username} (register it first; guests cannot be admins)`,
      last_admin: `${username} is the last admin: promote another first`,
    };
    (change === 'changed' || change === 'unchanged' ? console.log : console.error)(messages[change]);
    return change === 'changed' || change === 'unchanged' ? 0 : 1;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `admin failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
