import { readFileSync } from 'node:fs';
import path from 'node:path';
import { maskBackend, maskFallbackReason } from '@chat/protocol';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { redactUrl } from './redact-url.js';

/** Runs the chat server: `node dist/server.js`, configured by environment variables. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const pretty = process.stdout.isTTY && config.logLevel !== 'silent';
  const app = await buildApp(config, pretty ? { fastify: { logger: { level: config.logLevel, transport: { target: 'pino-pretty' } } } } : {});

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    // Exit within 10 s whatever happens; close() normally takes well under that.
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 9000).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ port: config.port, host: config.host });
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  app.log.info(
    {
      version,
      url: address,
      // Which store, and where: never the password of a DATABASE_URL.
      store: config.databaseUrl ? 'postgresql' : 'sqlite',
      database: config.databaseUrl ? redactUrl(config.databaseUrl) : path.resolve(config.databasePath),
      admin: config.adminToken ? 'admin accounts and ADMIN_TOKEN' : 'admin accounts only (pnpm admin promote <username>)',
      // 'native' unless the masking addon could not be built (then large frames cost more CPU, and the line says why).
      masking: maskFallbackReason === undefined ? maskBackend : `${maskBackend} (${maskFallbackReason})`,
    },
    `chat server ${version} listening on ${address}`,
  );
}

main().catch((err) => {
  // A database file that cannot be used is said in one line, with what to do; exit code 3 (2: configuration).
  if (err instanceof Error && err.name === 'DatabaseFileError') {
    console.error(err.message);
    process.exit(3);
  }
  console.error(err);
  process.exit(1);
});
