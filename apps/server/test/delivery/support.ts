/**
 * Support for the delivery tests: the real server as a child process
 * (`node dist/server.js`, configured by environment variables exactly as in
 * production), a small WebSocket chat client on `@chat/protocol`, a raw TCP
 * WebSocket peer for what a well-behaved client never does, and a seeded PRNG.
 *
 * Every wait here is bounded in time and every loop in count: a broken server
 * fails a test with a message, it never hangs one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, ReadyState, type ConnectOptions, type WebSocketConnection } from '@chat/protocol';
import { freePort } from '@chat/test-support';

export const ADMIN_TOKEN = 'delivery-admin-token-0123456789';
const SERVER_ENTRY = fileURLToPath(new URL('../../dist/server.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `intervalMs` until it returns a truthy value, at most
 * `timeoutMs`; then throws naming `what`.
 */
export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms (${i + 1} checks) waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Rejects with a message naming `what` unless `promise` settles within `timeoutMs`. */
export function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A free TCP port on 127.0.0.1 (shared with the other packages' tests). */
export { freePort };

/** A temporary folder for a database, removed by `remove`. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-delivery-'));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A server child process, listening on 127.0.0.1:`port`, healthy. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/ws` */
  readonly wsUrl: string;
  readonly databasePath: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** The last few KiB the process wrote to stdout and stderr (for failure messages). */
  output(): string;
  /** Sends `signal` and waits (bounded) for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export interface StartOptions {
  /** The SQLite file; a restart passes the previous server's. */
  databasePath: string;
  /** Environment over the defaults below (LOG_LEVEL=warn, high login and message limits). */
  env?: Record<string, string>;
}

const OUTPUT_KEEP = 16 * 1024;

/**
 * Starts `node apps/server/dist/server.js` on a free port and resolves once
 * `GET /healthz` answers 200. A port taken between the probe and the child's
 * listen is retried on another port (at most three times).
 */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`pnpm -r build\` first`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, options);
    } catch (err) {
      lastError = err;
      if (!/EADDRINUSE/.test(String(err))) throw err;
    }
  }
  throw lastError;
}

async function startOn(port: number, options: StartOptions): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_PATH: options.databasePath,
    ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    // Every client of a test signs in from 127.0.0.1.
    RATE_LOGINS_PER_MINUTE: '100000',
    ...options.env,
  };
  const child = spawn(process.execPath, [SERVER_ENTRY], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<Exit> => {
    if (exit) return exit;
    child.kill(signal);
    return within(`the server (pid ${child.pid}) to exit after ${signal}`, exited, timeoutMs);
  };

  try {
    await until(
      `GET ${url}/healthz`,
      async () => {
        if (exit) throw new Error(`the server exited (${JSON.stringify(exit)}) before it was healthy:\n${output}`);
        try {
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
          return res.status === 200;
        } catch {
          return false;
        }
      },
      15_000,
      25,
    );
  } catch (err) {
    if (!exit) {
      child.kill('SIGKILL');
      await within('the failed server to exit', exited, 5000).catch(() => {});
    }
    throw err;
  }

  return {
    child,
    pid: child.pid!,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    databasePath: options.databasePath,
    exited,
    alive: () => exit === undefined,
    output: () => output,
    stop,
  };
}

/** The resident set size of a process in bytes (Linux /proc), or undefined when unavailable. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface TcpQueue {
  localPort: number;
  remotePort: number;
  /** Bytes sent and not yet acknowledged by the peer. */
  txQueue: number;
  /** Bytes received and not yet read by the application. */
  rxQueue: number;
}

/** Every IPv4 TCP socket's queues on this host (Linux /proc/net/tcp); empty when unavailable. */
export function tcpQueues(): TcpQueue[] {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return [];
  }
  const out: TcpQueue[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [, local, remote, , queues] = f as [string, string, string, string, string];
    const [tx, rx] = queues.split(':');
    out.push({
      localPort: parseInt(local.split(':')[1]!, 16),
      remotePort: parseInt(remote.split(':')[1]!, 16),
      txQueue: parseInt(tx!, 16),
      rxQueue: parseInt(rx!, 16),
    });
  }
  return out;
}

// ---- HTTP -------------------------------------------------------------------

export interface HttpAnswer<T = any> {
  status: number;
  body: T;
}

/** A JSON request; the body of the answer is parsed when it is JSON. */
export async function http<T = any>(
  base: string,
  method: string,
  route: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T };
}

export interface Account {
  username: string;
  token: string;
}

let guests = 0;

/** A guest account with a fresh name (`prefix` + a counter + random digits). */
export async function guest(base: string, prefix = 'g'): Promise<Account> {
  const username = `${prefix}${++guests}x${randomBytes(3).toString('hex')}`;
  const res = await http<{ token: string }>(base, 'POST', '/api/auth/guest', { body: { username } });
  if (res.status !== 201) throw new Error(`guest ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return { username, token: res.body.token };
}

/** Creates a public room through the admin API. */
export async function createRoom(base: string, id: string): Promise<void> {
  const res = await http(base, 'POST', '/api/admin/rooms', { token: ADMIN_TOKEN, body: { id, title: id } });
  if (res.status !== 201) throw new Error(`create room ${id}: ${res.status} ${JSON.stringify(res.body)}`);
}

export interface StoredMessage {
  id: number;
  seq: number;
  author: string;
  text: string;
  clientMsgId: string;
  ts: number;
}

/**
 * A room's whole history through `GET /api/rooms/:id/messages`, paging back
 * with `before`; returned oldest first. At most `maxPages` pages of 100.
 */
export async function readAllMessages(base: string, token: string, room: string, maxPages = 1000): Promise<StoredMessage[]> {
  const pages: StoredMessage[][] = [];
  let before: number | undefined;
  for (let page = 0; page < maxPages; page++) {
    const query = before === undefined ? '?limit=100' : `?limit=100&before=${before}`;
    const res = await http<{ messages: StoredMessage[] }>(base, 'GET', `/api/rooms/${room}/messages${query}`, { token });
    if (res.status !== 200) throw new Error(`history of ${room}: ${res.status} ${JSON.stringify(res.body)}`);
    const messages = res.body.messages;
    if (messages.length === 0) return pages.reverse().flatMap((p) => [...p].reverse());
    pages.push(messages);
    before = messages[messages.length - 1]!.seq;
    if (before <= 1) return pages.reverse().flatMap((p) => [...p].reverse());
  }
  throw new Error(`history of ${room} has more than ${maxPages} pages`);
}

// ---- WebSocket chat client ----------------------------------------------------

/** A server message as JSON (loosely typed: tests check fields themselves). */
export type Msg = { type: string; [key: string]: any };

/**
 * One chat connection: every server message is parsed and kept in
 * `received`; `waitFor` hands out the first one matching, once each.
 */
export class ChatSocket {
  readonly received: Msg[] = [];
  /** Settles with the close code and reason when the connection ends. */
  readonly closed: Promise<{ code: number; reason: string }>;
  closeInfo: { code: number; reason: string } | undefined;
  /** Keep messages in `received` (false: listeners only, for floods). */
  keep = true;
  private readonly taken = new Set<number>();
  private readonly listeners = new Set<(m: Msg) => void>();
  private refs = 0;

  private constructor(
    readonly connection: WebSocketConnection,
    readonly name: string,
  ) {
    connection.on('error', () => {});
    this.closed = new Promise((resolve) => {
      connection.on('close', (code, reason) => {
        this.closeInfo = { code, reason };
        resolve({ code, reason });
      });
    });
    connection.on('message', (data) => {
      let m: Msg;
      try {
        m = JSON.parse(data.toString('utf8')) as Msg;
      } catch {
        m = { type: '<not json>', raw: data.toString('utf8') };
      }
      if (this.keep) this.received.push(m);
      for (const listener of this.listeners) listener(m);
    });
  }

  /** Connects with `Authorization: Bearer <token>` and subprotocol chat.v1. */
  static async open(
    wsUrl: string,
    account: Account,
    headers: Record<string, string> = {},
    options: Omit<ConnectOptions, 'headers' | 'protocols'> = {},
  ): Promise<ChatSocket> {
    const connection = await connect(wsUrl, {
      headers: { authorization: `Bearer ${account.token}`, ...headers },
      protocols: ['chat.v1'],
      handshakeTimeoutMs: 5000,
      ...options,
    });
    return new ChatSocket(connection, account.username);
  }

  get open(): boolean {
    return this.connection.readyState === ReadyState.Open;
  }

  /** Calls `listener` with every message from now on; returns a function that removes it. */
  onMessage(listener: (m: Msg) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(message: object): void {
    this.connection.send(JSON.stringify(message));
  }

  sendText(text: string): void {
    this.connection.send(text);
  }

  /** The first message matching `match` not handed out before, waiting up to `timeoutMs` for it. */
  waitFor(what: string, match: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> {
    const index = this.received.findIndex((m, i) => !this.taken.has(i) && match(m));
    if (index >= 0) {
      this.taken.add(index);
      return Promise.resolve(this.received[index]!);
    }
    if (this.closeInfo) {
      const { code, reason } = this.closeInfo;
      return Promise.reject(new Error(`${this.name}: closed (${code} ${reason}); no ${what}; last messages:\n${this.tail()}`));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = () => {
        settled = true;
        clearTimeout(timer);
        remove();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last messages:\n${this.tail()}`));
      }, timeoutMs);
      const remove = this.onMessage((m) => {
        if (settled || !match(m)) return;
        done();
        this.taken.add(this.received.lastIndexOf(m));
        resolve(m);
      });
      void this.closed.then(({ code, reason }) => {
        if (settled) return;
        done();
        reject(new Error(`${this.name}: closed (${code} ${reason}) while waiting for ${what}; last messages:\n${this.tail()}`));
      });
    });
  }

  /** Sends `message` with a fresh `ref` and waits for the reply carrying it. */
  call(message: object, timeoutMs = 5000): Promise<Msg> {
    const ref = `${this.name}-r${++this.refs}`;
    this.send({ ...message, ref });
    return this.waitFor(`reply to ${JSON.stringify(message).slice(0, 80)}`, (m) => m.ref === ref, timeoutMs);
  }

  async join(room: string, since?: number): Promise<Msg> {
    const reply = await this.call(since === undefined ? { type: 'join', room } : { type: 'join', room, since });
    if (reply.type !== 'joined') throw new Error(`${this.name}: join ${room} answered ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Closes (1000) and waits, bounded, for the connection to end. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.connection.close(1000);
    await within(`${this.name} to close`, this.closed, 7000).catch(() => this.connection.terminate());
  }

  tail(n = 8): string {
    return this.received
      .slice(-n)
      .map((m) => `  ${JSON.stringify(m).slice(0, 300)}`)
      .join('\n');
  }
}

/** What a `Streamer` knows of one of its sends once the server answered it. */
export interface Ack {
  id: number;
  seq: number;
}

/**
 * Sends chat messages on one connection as fast as acks come back, keeping
 * `window` in flight: each own `message` echo (ack after commit) releases the
 * next send. Every send has a unique clientMsgId (`<prefix>-<n>`, also its `ref`).
 */
export class Streamer {
  /** clientMsgIds in the order they were sent. */
  readonly sent: string[] = [];
  readonly texts = new Map<string, string>();
  /** clientMsgId → the id and seq of the acknowledging echo. */
  readonly acked = new Map<string, Ack>();
  /** Error replies to sends (any code). */
  readonly errors: Msg[] = [];
  private readonly pending = new Set<string>();
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly socket: ChatSocket,
    readonly room: string,
    readonly prefix: string,
    readonly window: number,
    /** Stop after this many sends. Default: until `stop()`. */
    readonly limit = Number.POSITIVE_INFINITY,
    /** Characters of filler per message. Default 40. */
    readonly padding = 40,
    /** Filler that compresses to almost nothing ('x…') or not at all (random base64). Default 'x'. */
    readonly filler: 'x' | 'random' = 'x',
  ) {
    this.unsubscribe = socket.onMessage((m) => this.onMessage(m));
  }

  start(): this {
    for (let i = 0; i < this.window; i++) this.sendNext();
    return this;
  }

  /** Sends nothing more (what is in flight may still be acked). */
  stop(): void {
    this.stopped = true;
  }

  /** Stops and no longer listens. */
  detach(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sent and not acked. */
  unacked(): string[] {
    return this.sent.filter((id) => !this.acked.has(id));
  }

  /** Every send answered (acked or refused) and no more to send. */
  get done(): boolean {
    return this.pending.size === 0 && (this.stopped || this.sent.length >= this.limit);
  }

  private sendNext(): void {
    if (this.stopped || this.sent.length >= this.limit || !this.socket.open) return;
    const clientMsgId = `${this.prefix}-${this.sent.length + 1}`;
    const fill = this.filler === 'x' ? 'x'.repeat(this.padding) : randomBytes(Math.ceil((this.padding * 3) / 4)).toString('base64').slice(0, this.padding);
    const text = `${clientMsgId} ${fill}`;
    this.sent.push(clientMsgId);
    this.texts.set(clientMsgId, text);
    this.pending.add(clientMsgId);
    this.socket.send({ type: 'send', room: this.room, text, clientMsgId, ref: clientMsgId });
  }

  private onMessage(m: Msg): void {
    if (typeof m.ref !== 'string' || !this.pending.has(m.ref)) return;
    if (m.type === 'message' && m.clientMsgId === m.ref) {
      this.acked.set(m.ref, { id: m.id, seq: m.seq });
    } else if (m.type === 'error') {
      this.errors.push(m);
    } else {
      return;
    }
    this.pending.delete(m.ref);
    this.sendNext();
  }
}

/** Clean-up steps run in reverse order after each test (register with `add`). */
export function createCleanup() {
  const steps: Array<() => unknown> = [];
  return {
    add(step: () => unknown): void {
      steps.push(step);
    },
    async run(): Promise<void> {
      const errors: unknown[] = [];
      for (const step of steps.splice(0).reverse()) {
        try {
          await step();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}

/** A server child killed (SIGKILL) at clean-up if still running. */
export function killAtCleanup(cleanup: ReturnType<typeof createCleanup>, server: ServerProcess): ServerProcess {
  cleanup.add(async () => {
    if (server.alive()) await server.stop('SIGKILL', 5000);
  });
  return server;
}

/**
 * Checks a room's stored history: seq exactly 1..N in order, no clientMsgId
 * twice. Returns a message naming the first problem, or undefined.
 */
export function historyProblem(messages: StoredMessage[]): string | undefined {
  const seen = new Map<string, number>();
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.seq !== i + 1) return `position ${i} holds seq ${m.seq} (expected ${i + 1}): a gap or a duplicate seq`;
    const key = `${m.author}\u0000${m.clientMsgId}`;
    if (seen.has(key)) return `clientMsgId ${m.clientMsgId} of ${m.author} is stored twice (seq ${seen.get(key)} and ${m.seq})`;
    seen.set(key, m.seq);
  }
  return undefined;
}

// ---- a raw WebSocket peer over TCP --------------------------------------------------

export interface RawPeer {
  socket: net.Socket;
  /** The HTTP status line and headers the server answered with. */
  response: string;
  status: number;
  /** Bytes after the response head (frames the server sent). */
  readonly data: Buffer[];
  /** Settles when the TCP connection is closed. */
  closed: Promise<void>;
}

/**
 * Opens a TCP connection and writes a WebSocket upgrade request by hand
 * (RFC 6455 §4.1) with `headers`; resolves once the response head is read,
 * whatever its status. Nothing is ever answered afterwards unless the caller
 * writes it.
 */
export function rawUpgrade(port: number, headers: Record<string, string>, timeoutMs = 5000): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const key = randomBytes(16).toString('base64');
    const data: Buffer[] = [];
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    let head = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`no upgrade response within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.on('error', (err) => fail(err));
    socket.on('close', () => fail(new Error(`the server closed before answering: ${head.toString('latin1')}`)));
    socket.on('connect', () => {
      const lines = [
        'GET /ws HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Protocol: chat.v1',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    const onData = (chunk: Buffer) => {
      if (settled) {
        data.push(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      settled = true;
      clearTimeout(timer);
      const response = head.subarray(0, end).toString('latin1');
      const rest = head.subarray(end + 4);
      if (rest.length > 0) data.push(rest);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
      if (status === 101) {
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        if (!response.includes(`Sec-WebSocket-Accept: ${accept}`) && !response.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
          socket.destroy();
          reject(new Error(`wrong Sec-WebSocket-Accept in:\n${response}`));
          return;
        }
      }
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      resolve({ socket, response, status, data, closed });
    };
    socket.on('data', onData);
  });
}

/**
 * One WebSocket frame as a client sends it (RFC 6455 §5.2): FIN, RSV bits,
 * opcode, mask bit and key, a length field that may lie about the payload.
 */
export function rawFrame(options: {
  fin?: boolean;
  rsv?: number;
  opcode: number;
  payload: Buffer;
  mask?: Buffer | null;
  /** The length written in the header; default the payload's. */
  declaredLength?: number | bigint;
}): Buffer {
  const { payload } = options;
  const declared = BigInt(options.declaredLength ?? payload.length);
  const mask = options.mask === undefined ? randomBytes(4) : options.mask;
  const b0 = ((options.fin ?? true) ? 0x80 : 0) | (((options.rsv ?? 0) & 0x7) << 4) | (options.opcode & 0xf);
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  if (declared < 126n) {
    header = Buffer.from([b0, maskBit | Number(declared)]);
  } else if (declared < 65536n) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(declared), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(declared & 0xffffffffffffffffn, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/**
 * Splits what a server sent into frames (unmasked, RFC 6455 §5.2); a
 * trailing partial frame is left out.
 */
export function parseServerFrames(chunks: Buffer[]): ServerFrame[] {
  const buf = Buffer.concat(chunks);
  const frames: ServerFrame[] = [];
  let at = 0;
  for (let guard = 0; guard < 100_000 && at + 2 <= buf.length; guard++) {
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    let length = b1 & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (offset + 2 > buf.length) break;
      length = buf.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > buf.length) break;
      length = Number(buf.readBigUInt64BE(offset));
      offset += 8;
    }
    if (b1 & 0x80) offset += 4;
    if (offset + length > buf.length) break;
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: buf.subarray(offset, offset + length) });
    at = offset + length;
  }
  return frames;
}

// ---- a seeded PRNG ------------------------------------------------------------------

/** mulberry32: a small, fast, seedable PRNG, so a failing fuzz run can be replayed. */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    /** An integer in [min, max]. */
    int,
    bool: (p = 0.5) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    bytes: (n: number) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}
export type Random = ReturnType<typeof createRandom>;
