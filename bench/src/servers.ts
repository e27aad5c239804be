import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openFds, rssBytes } from './lib/proc.js';
import { spawnNode } from './lib/spawn.js';
import { freePort, waitForHealthz } from '@chat/test-support';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
const hook = pathToFileURL(path.join(here, 'lib', 'inspect-hook.js')).href;

export type ServerName = 'ours' | 'ws' | 'socket.io';
export const SERVER_NAMES: readonly ServerName[] = ['ours', 'ws', 'socket.io'];

/** How the load generator talks to a server: our chat over WebSocket, or socket.io. */
export type ClientKind = 'chat' | 'socket.io';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface ServerHandle {
  name: ServerName;
  clientKind: ClientKind;
  /** ws://… for the chat servers, http://… for socket.io. */
  url: string;
  /** http://127.0.0.1:port */
  origin: string;
  pid: number;
  rss(): number;
  fds(): number;
  /** Collects garbage in the server (see lib/inspect-hook.ts), then reports its RSS from /proc. */
  settledRss(): Promise<number>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Our server's SQLite file (kept across restarts within a run). */
  databasePath?: string;
  /**
   * Variables laid over our server's environment (scenario 6: DATABASE_URL,
   * REDIS_URL, REDIS_PREFIX, NODE_ID); the twins ignore them.
   */
  env?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A temporary folder for our server's database, removed by the returned function. */
export function tempDatabase(): { file: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-bench-'));
  return { file: path.join(dir, 'chat.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function handle(name: ServerName, child: ChildProcess, port: number): ServerHandle {
  let nextId = 1;
  const pending = new Map<number, (msg: { rss: number }) => void>();
  child.on('message', (msg: { id?: number; rss: number }) => {
    if (msg.id !== undefined) {
      pending.get(msg.id)?.(msg);
      pending.delete(msg.id);
    }
  });
  const pid = child.pid!;
  const clientKind: ClientKind = name === 'socket.io' ? 'socket.io' : 'chat';
  return {
    name,
    clientKind,
    url: clientKind === 'chat' ? `ws://127.0.0.1:${port}/ws` : `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    pid,
    rss: () => rssBytes(pid),
    fds: () => openFds(pid),
    settledRss: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`${name}: no answer to gc`)), 30_000);
        pending.set(id, () => {
          clearTimeout(timer);
          resolve(rssBytes(pid));
        });
        child.send({ cmd: 'gc', id });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(12_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

function exitedEarly(name: string, child: ChildProcess): Promise<never> {
  return new Promise((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${name} server exited during start-up (${signal ?? code})`)));
  });
}

/**
 * Our server as shipped (persistence on, DB_SYNCHRONOUS default FULL), with
 * the per-user and per-connection limits raised so they do not cut the load.
 */
async function startOurs(options: StartOptions): Promise<ServerHandle> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_PATH: options.databasePath,
    ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    RATE_MESSAGES_PER_SECOND: '1000000',
    RATE_JOINS_PER_MINUTE: '1000000',
    RATE_LOGINS_PER_MINUTE: '1000000',
    RATE_SEARCHES_PER_SECOND: '1000000',
    MAX_CONNECTIONS: '100000',
    MAX_CONNECTIONS_PER_USER: '100000',
    ...options.env,
  };
  const child = spawnNode([...(options.nodeArgs ?? []), '--expose-gc', '--import', hook, path.join(repoRoot, 'apps/server/dist/server.js')], {
    cwd: repoRoot,
    env,
  });
  const ready = waitForHealthz(`http://127.0.0.1:${port}`, 20_000, 'our server did not answer /healthz within 20 s');
  try {
    await Promise.race([ready, exitedEarly('our', child)]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return handle('ours', child, port);
}

async function startTwin(name: 'ws' | 'socket.io', options: StartOptions): Promise<ServerHandle> {
  const script = path.join(here, 'twins', name === 'ws' ? 'ws-twin.js' : 'socketio-twin.js');
  const child = spawnNode([...(options.nodeArgs ?? []), '--expose-gc', '--import', hook, script], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, NODE_ENV: 'production' },
  });
  const port = await Promise.race([
    new Promise<number>((resolve) => {
      const onMessage = (msg: { ready?: boolean; port?: number }) => {
        if (msg.ready) {
          child.off('message', onMessage);
          resolve(msg.port!);
        }
      };
      child.on('message', onMessage);
    }),
    exitedEarly(name, child),
    sleep(20_000).then(() => {
      throw new Error(`${name} twin did not start within 20 s`);
    }),
  ]);
  return handle(name, child, port);
}

export function startServer(name: ServerName, options: StartOptions = {}): Promise<ServerHandle> {
  return name === 'ours' ? startOurs(options) : startTwin(name, options);
}
