import { TestRunner, describe } from 'vitest';
import { postgresUnavailable } from './postgres.js';

/**
 * The test runner of the `server-postgres` project (vitest.config.ts). Where
 * PostgreSQL is unavailable, each test file is collected inside a skipped
 * `describe` named after the reason: every test shows as skipped with it, and
 * none of the file's hooks run (they would otherwise try to build a server on
 * a database that is not there).
 */
export default class PostgresTestRunner extends TestRunner {
  private skipReason: string | undefined;

  async onBeforeCollect(): Promise<void> {
    this.skipReason = await postgresUnavailable();
  }

  override importFile(filepath: string, source: Parameters<TestRunner['importFile']>[1]): unknown {
    const reason = this.skipReason;
    if (source !== 'collect' || reason === undefined) return super.importFile(filepath, source);
    // The file is imported when the skipped suite is collected, so what it registers lands inside it.
    describe.skip(`needs PostgreSQL (${reason})`, async () => {
      await super.importFile(filepath, source);
    });
    return undefined;
  }
}
