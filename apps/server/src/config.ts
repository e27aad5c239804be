import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
/** An address, a CIDR range, or one of proxy-addr's names. */
function isProxyAddress(token: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(token)) return true;
  const [address, bits, ...rest] = token.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
const optional = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : s.trim());

/**
 * Every setting, read from the environment and validated at start-up: a bad
 * value stops the server with a message naming the variable. Each is
 * documented in the README ("Configuration").
 */
const Env = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_PATH: z.string().min(1).default('./data/chat.db'),
  /** postgres://… : PostgreSQL instead of the SQLite file (several nodes share it). */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// or postgresql:// URL')
    .optional(),
  /** With DATABASE_URL: how long a query may wait for PostgreSQL's answer before it fails (and its connection is dropped). */
  DATABASE_QUERY_TIMEOUT_MS: int(100, 10 * 60_000).default(10_000),
  /** redis://… : the Redis broker and presence registry (several nodes); default in-process. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'REDIS_URL must be a redis:// or rediss:// URL')
    .optional(),
  /** Prefix of every Redis key and channel, so deployments can share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, 'REDIS_PREFIX: 1-64 of A-Z a-z 0-9 : . _ -').default('chat:'),
  /** How long a dead node's presence entries outlive it (Redis only). */
  PRESENCE_TTL_MS: int(300, 10 * 60_000).default(15_000),
  /** This node's name in logs, /healthz and presence; default hostname-pid. */
  NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'NODE_ID: 1-64 letters, digits, dot, dash, underscore').optional(),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Comma-separated origins; default: the server's own origin. */
  ALLOWED_ORIGINS: z.string().optional(),
  MAX_MESSAGE_BYTES: int(1, 1024 * 1024).default(4096),
  ALLOW_GUESTS: bool.default(true),
  WS_COMPRESSION: bool.default(false),
  /** Bytes queued for one connection before it is cut off as a slow reader (close 1013). */
  WS_MAX_BUFFERED_BYTES: int(1024).default(1024 * 1024),
  /** Heartbeat: a peer silent for half of this is pinged; one silent for all of it is dropped (within 1¼ × it). */
  WS_IDLE_TIMEOUT_MS: int(0).default(30_000),
  WS_HANDSHAKE_TIMEOUT_MS: int(100).default(10_000),
  /** Sends allowed per second per connection (token bucket, with a burst of twice this). */
  RATE_MESSAGES_PER_SECOND: int(1).default(20),
  RATE_JOINS_PER_MINUTE: int(1).default(60),
  RATE_LOGINS_PER_MINUTE: int(1).default(10),
  RATE_SEARCHES_PER_SECOND: int(1).default(5),
  MAX_CONNECTIONS: int(1).default(10_000),
  MAX_CONNECTIONS_PER_USER: int(1).default(20),
  MAX_ROOMS_PER_CONNECTION: int(1).default(100),
  /** How far back a `join` with `since` is replayed before the client is told to reload instead. */
  MAX_REPLAY_MESSAGES: int(1).default(1000),
  /** SQLite `synchronous`: FULL survives power loss, NORMAL only process crashes. */
  DB_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  SESSION_TTL_DAYS: int(1).default(30),
  /** Bearer token for /metrics; default: ADMIN_TOKEN. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** PEM files: with both set the server speaks HTTPS (and wss://). */
  TLS_CERT: z.string().optional(),
  TLS_KEY: z.string().optional(),
  /**
   * Behind a reverse proxy: which peers' X-Forwarded-For to believe, so the
   * per-IP login limit and the logs see clients, not the proxy. `true` (any
   * peer: only when nothing else can reach the server), or comma-separated
   * proxy addresses/CIDRs and the names loopback, linklocal, uniquelocal.
   */
  TRUST_PROXY: z
    .string()
    .refine(
      (v) => v === 'true' || v === 'false' || v.split(',').every((t) => isProxyAddress(t.trim())),
      'TRUST_PROXY: true, false, or proxy addresses/CIDRs (or loopback, linklocal, uniquelocal) separated by commas',
    )
    .optional(),
  /** Where uploaded files live; default `files/` beside the SQLite file. Several nodes: one directory they all mount. */
  UPLOAD_DIR: z.string().min(1).optional(),
  /** One file's bytes. */
  MAX_UPLOAD_BYTES: int(1).default(10 * 1024 * 1024),
  /** All of one user's uploads (attached or waiting) together. */
  MAX_UPLOAD_BYTES_PER_USER: int(1).default(1024 * 1024 * 1024),
  MAX_ATTACHMENTS_PER_MESSAGE: int(1, 100).default(10),
  /** An image's width × height; beyond it the upload is refused before decoding (decompression bombs). */
  MAX_IMAGE_PIXELS: int(1).default(50_000_000),
  /** An upload no message carries after this long is deleted. */
  UPLOAD_UNATTACHED_TTL_MS: int(1000).default(60 * 60 * 1000),
  /** Folder of the built web client; default apps/web/dist. */
  WEB_ROOT: z.string().optional(),
});

export type Config = ReturnType<typeof loadConfig>;

/**
 * TRUST_PROXY as Fastify's `trustProxy` takes it. (No hop counts: Fastify
 * refuses them, since a count cannot tell a proxy from a client that forged
 * the header.)
 */
function parseTrustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return value.split(',').map((v) => v.trim());
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(Env.shape)) raw[key] = optional(env[key]);
  const parsed = Env.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if ((c.TLS_CERT === undefined) !== (c.TLS_KEY === undefined)) {
    throw new ConfigError('invalid configuration:\n  TLS_CERT and TLS_KEY must be set together');
  }
  return {
    port: c.PORT,
    host: c.HOST,
    databasePath: c.DATABASE_PATH,
    databaseUrl: c.DATABASE_URL,
    databaseQueryTimeoutMs: c.DATABASE_QUERY_TIMEOUT_MS,
    redisUrl: c.REDIS_URL,
    presenceTtlMs: c.PRESENCE_TTL_MS,
    redisPrefix: c.REDIS_PREFIX,
    nodeId: c.NODE_ID ?? `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64),
    adminToken: c.ADMIN_TOKEN,
    logLevel: c.LOG_LEVEL,
    /** undefined: only the server's own origin (the request's Host, over http or https). */
    allowedOrigins: c.ALLOWED_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean),
    maxMessageBytes: c.MAX_MESSAGE_BYTES,
    allowGuests: c.ALLOW_GUESTS,
    wsCompression: c.WS_COMPRESSION,
    wsMaxBufferedBytes: c.WS_MAX_BUFFERED_BYTES,
    wsIdleTimeoutMs: c.WS_IDLE_TIMEOUT_MS,
    wsHandshakeTimeoutMs: c.WS_HANDSHAKE_TIMEOUT_MS,
    rateMessagesPerSecond: c.RATE_MESSAGES_PER_SECOND,
    rateJoinsPerMinute: c.RATE_JOINS_PER_MINUTE,
    rateLoginsPerMinute: c.RATE_LOGINS_PER_MINUTE,
    rateSearchesPerSecond: c.RATE_SEARCHES_PER_SECOND,
    maxConnections: c.MAX_CONNECTIONS,
    maxConnectionsPerUser: c.MAX_CONNECTIONS_PER_USER,
    maxRoomsPerConnection: c.MAX_ROOMS_PER_CONNECTION,
    maxReplayMessages: c.MAX_REPLAY_MESSAGES,
    dbSynchronous: c.DB_SYNCHRONOUS,
    sessionTtlMs: c.SESSION_TTL_DAYS * 24 * 60 * 60 * 1000,
    webRoot: c.WEB_ROOT,
    uploadDir: c.UPLOAD_DIR ?? path.join(path.dirname(c.DATABASE_PATH), 'files'),
    maxUploadBytes: c.MAX_UPLOAD_BYTES,
    maxUploadBytesPerUser: c.MAX_UPLOAD_BYTES_PER_USER,
    maxAttachmentsPerMessage: c.MAX_ATTACHMENTS_PER_MESSAGE,
    maxImagePixels: c.MAX_IMAGE_PIXELS,
    uploadUnattachedTtlMs: c.UPLOAD_UNATTACHED_TTL_MS,
    trustProxy: parseTrustProxy(c.TRUST_PROXY),
    metricsToken: c.METRICS_TOKEN,
    tlsCert: c.TLS_CERT,
    tlsKey: c.TLS_KEY,
  };
}
