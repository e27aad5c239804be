/**
 * What scenario 6 (scale-out) needs around a cluster of our server: a fresh
 * PostgreSQL database and Redis key prefix per run, which node each room
 * member connects to, and the pids of PostgreSQL and Redis for their CPU.
 *
 * PostgreSQL and Redis are reached through their command-line clients (psql,
 * redis-cli) rather than drivers: the bench then needs no dependency of its
 * own for a few housekeeping statements.
 */
import { execFile, execFileSync } from 'node:child_process';

// ---- pure helpers ------------------------------------------------------------------

/** The node member `k` of a room connects to: round-robin, so every node holds members (k = 0 on node 0). */
export function nodeOf(member: number, nodes: number): number {
  if (!Number.isInteger(nodes) || nodes < 1) throw new RangeError(`nodes must be a positive integer, not ${nodes}`);
  return member % nodes;
}

/** Members 0 … members-1 grouped by the node `nodeOf` gives them. */
export function membersByNode(members: number, nodes: number): number[][] {
  const out: number[][] = Array.from({ length: nodes }, () => []);
  for (let k = 0; k < members; k++) out[nodeOf(k, nodes)]!.push(k);
  return out;
}

/**
 * `chat_bench_<tag>`. The name goes into CREATE/DROP DATABASE unquoted, so
 * only lower-case letters, digits and `_` are accepted (PostgreSQL folds
 * unquoted names to lower case), within its 63-byte identifier limit.
 */
export function benchDatabaseName(tag: string): string {
  return checkedName(`chat_bench_${tag}`);
}

function checkedName(name: string): string {
  if (!/^chat_bench_[a-z0-9_]+$/.test(name) || name.length > 63) throw new Error(`not a bench database name: ${JSON.stringify(name)}`);
  return name;
}

/** Redis keys of one run start with this, so they can be found and deleted afterwards. */
export function benchRedisPrefix(tag: string): string {
  return `bench-${tag}:`;
}

/** The same server, user, password and parameters as `url`, on database `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * From `pgrep -a postgres` output ("<pid> <command line>" per line): the
 * server's own processes (postmaster, checkpointer, WAL writer, …: they do
 * our commits' I/O too) and the client backends connected to `database`.
 * Backends of other databases are left out: other sessions may use the same
 * server. A client backend's title names its host, `127.0.0.1(port)` or
 * `[local]`, after its user and database.
 */
export function postgresPids(pgrepOutput: string, database: string): number[] {
  const pids: number[] = [];
  for (const line of pgrepOutput.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const title = m[2]!;
    const backend = /\[local\]|\(\d+\)/.test(title);
    if (!backend || title.split(/\s+/).includes(database)) pids.push(Number(m[1]));
  }
  return pids;
}

// ---- PostgreSQL and Redis through their clients ------------------------------------------

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    // PGCONNECT_TIMEOUT: an unreachable server fails the scenario in seconds, not at the watchdog.
    execFile(cmd, args, { timeout: timeoutMs, env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${(stderr || err.message).trim().split('\n')[0]}`));
      else resolve(stdout);
    });
  });
}

const psql = (url: string, sql: string) => run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql]);

/** CREATE DATABASE on the server of `adminUrl` (any database of it will do). */
export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  await psql(adminUrl, `CREATE DATABASE ${checkedName(name)}`);
}

/**
 * Drops the database even while something still holds connections to it
 * (PostgreSQL ≥ 13). Only `chat_bench_…` names are accepted: this must never
 * drop anything the bench did not create.
 */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await psql(adminUrl, `DROP DATABASE IF EXISTS ${checkedName(name)} WITH (FORCE)`);
}

/** Rows of a table, or undefined when the table does not exist (the schema was never created). */
export async function countRows(url: string, table: 'users' | 'messages'): Promise<number | undefined> {
  const exists = (await psql(url, `SELECT to_regclass('public.${table}') IS NOT NULL`)).trim();
  if (exists !== 't') return undefined;
  return Number((await psql(url, `SELECT count(*) FROM ${table}`)).trim());
}

/** Deletes the keys matching `pattern` (SCAN, not KEYS: a shared Redis is not blocked); returns how many. */
export async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<number> {
  const keys = (await run('redis-cli', ['-u', redisUrl, '--scan', '--pattern', pattern]))
    .split('\n')
    .filter((k) => k.length > 0);
  // SCAN may return a key twice; DEL counts each key once.
  const unique = [...new Set(keys)];
  let deleted = 0;
  for (let i = 0; i < unique.length; i += 500) {
    deleted += Number((await run('redis-cli', ['-u', redisUrl, 'del', ...unique.slice(i, i + 500)])).trim()) || 0;
  }
  return deleted;
}

function pgrep(args: string[]): string {
  try {
    return execFileSync('pgrep', args, { encoding: 'utf8', timeout: 5000 });
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

/**
 * PostgreSQL's processes serving `database` (see `postgresPids`) and every
 * redis-server on this machine; empty when they run elsewhere (another host,
 * a container whose processes this one cannot see).
 */
export function infraPids(database: string): { postgres: number[]; redis: number[] } {
  return {
    postgres: postgresPids(pgrep(['-a', 'postgres']), database),
    redis: pgrep(['-x', 'redis-server'])
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number),
  };
}
