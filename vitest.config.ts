import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const source = (file: string) => fileURLToPath(new URL(file, import.meta.url));

// One runner for the whole repo: every package's tests run from the root.
// Two projects: `default` is every test on the default store (SQLite);
// `server-postgres` runs the in-process server tests (they build the app with
// test/helpers/build.ts) once more on PostgreSQL at DATABASE_URL, each server
// in a schema of its own. Without a reachable DATABASE_URL it skips them all,
// saying why. The tests that spawn servers (delivery/) stay on SQLite, and
// store-contract.test.ts runs both stores itself; redact-url, sqlite-threads, sqlite-migrations, sqlite-statements and sqlite-search-index need no server.
export default defineConfig({
  // Tests load the workspace packages from their TypeScript sources, not from
  // their dist/ (which other consumers and `node` itself resolve): a test of one
  // package needs no build of another. Not the spawned ones: apps/server's
  // dist/server.js and its SQLite writer thread run compiled code, so
  // `pnpm test` still builds first. @chat/protocol's src/mask.ts finds its addon
  // and wasm relative to itself, and src/ sits where dist/ does.
  resolve: {
    alias: {
      '@chat/protocol': source('./packages/protocol/src/index.ts'),
      '@chat/schema': source('./packages/chat-schema/src/index.ts'),
      '@chat/test-support': source('./packages/test-support/src/index.ts'),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'deploy/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'server-postgres',
          include: ['apps/server/test/*.test.ts'],
          exclude: [...configDefaults.exclude, 'apps/server/test/store-contract.test.ts', 'apps/server/test/redact-url.test.ts', 'apps/server/test/sqlite-threads.test.ts', 'apps/server/test/sqlite-migrations.test.ts', 'apps/server/test/sqlite-statements.test.ts', 'apps/server/test/sqlite-search-index.test.ts'],
          env: { CHAT_TEST_STORE: 'postgres' },
          runner: './apps/server/test/helpers/postgres-runner.ts',
          globalSetup: ['./apps/server/test/helpers/postgres-global-setup.ts'],
        },
      },
    ],
  },
});
