import pg, { type CustomTypesConfig, type Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';

/** A pool (one statement, any connection) or a checked-out client (a transaction). */
export type Queryable = Pool | PoolClient;

/**
 * A statement prepared once per pooled connection: pg parses and plans a named
 * query the first time a connection runs it and reuses the plan after that —
 * the counterpart of better-sqlite3's `db.prepare` in the SQLite repositories.
 */
export function statement<Row extends QueryResultRow>(name: string, text: string) {
  return (db: Queryable, values: unknown[] = []): Promise<QueryResult<Row>> => db.query<Row>({ name, text, values });
}

/**
 * BIGINT columns (ids, seqs, epoch-millisecond timestamps, COUNT) as JS numbers
 * instead of pg's default strings. They stay below 2^53: a timestamp reaches it
 * in the year 287,000, an id or a seq after 9 * 10^15 rows.
 */
export const int8AsNumber: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as CustomTypesConfig['getTypeParser'],
};

/** The message node-postgres fails a query with when `query_timeout` passes without an answer. */
const QUERY_TIMEOUT = 'Query read timeout';

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT when it
 * returns a value, ROLLBACK when it returns `undefined` (the caller's "undo
 * this attempt") or throws. A connection whose ROLLBACK fails is dropped from
 * the pool rather than reused in an unknown state — and so is one whose query
 * timed out, without a ROLLBACK: it would queue behind the unanswered query
 * and wait as long again. Closing the connection ends the transaction on the
 * server. (A COMMIT that timed out may still have committed: the caller gets
 * an error, and a send retried with its clientMsgId finds the stored row.)
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T | undefined>): Promise<T | undefined> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query(result === undefined ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (err) {
    if (err instanceof Error && err.message === QUERY_TIMEOUT) broken = err;
    else {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** PostgreSQL text cannot hold U+0000 (SQLite can): it becomes U+FFFD rather than failing the whole batch it is in. */
export const withoutNul = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text);
