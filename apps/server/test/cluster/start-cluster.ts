/**
 * Server nodes as the compose `cluster` profile runs them: one new PostgreSQL
 * database (in DATABASE_URL's server) and one Redis key prefix, cleaned up
 * after the test. The cluster tests use the machine's Redis; the fault tests
 * pass one they start and stop themselves.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { killAtCleanup, startServer, tempDir, type createCleanup, type ServerProcess } from '../delivery/support.js';

export interface Cluster {
  nodes: ServerProcess[];
  databaseUrl: string;
}

export interface ClusterOptions {
  redisUrl: string;
  presenceTtlMs: number;
  /** More environment for every node. */
  env?: Record<string, string>;
  /** And for node i, `perNodeEnv[i]`. */
  perNodeEnv?: Array<Record<string, string>>;
}

/** `count` nodes on a new database and Redis prefix (started at once: migrations must not race). */
export async function startNodes(cleanup: ReturnType<typeof createCleanup>, count: number, options: ClusterOptions): Promise<Cluster> {
  const DATABASE_URL = process.env.DATABASE_URL;
  if (!DATABASE_URL) throw new Error('DATABASE_URL is unset');
  const name = `chat_cluster_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const prefix = `test-${name}:`;
  cleanup.add(async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
    // A Redis the test has stopped has nothing to clean.
    const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } catch {
      // (gone)
    } finally {
      redis.disconnect();
    }
  });
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  const nodes = await Promise.all(
    Array.from({ length: count }, async (_, i) =>
      killAtCleanup(
        cleanup,
        await startServer({
          // Unused with DATABASE_URL set; the helper wants one.
          databasePath: path.join(dir.path, `unused-${i}.db`),
          env: {
            DATABASE_URL: databaseUrl,
            REDIS_URL: options.redisUrl,
            REDIS_PREFIX: prefix,
            NODE_ID: `n${i + 1}`,
            PRESENCE_TTL_MS: String(options.presenceTtlMs),
            RATE_MESSAGES_PER_SECOND: '100000',
            ...options.env,
            ...options.perNodeEnv?.[i],
          },
        }),
      ),
    ),
  );
  return { nodes, databaseUrl };
}
