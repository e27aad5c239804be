import { randomUUID } from 'node:crypto';
import { connect, ReadyState, type WebSocketConnection } from '@chat/protocol';
import { CHAT_SUBPROTOCOL, ServerMessage } from '@chat/schema';
import type { TestServer } from './build.js';

export type Msg = ServerMessage;
export type OfType<T extends Msg['type']> = Extract<Msg, { type: T }>;

/** How long `next` waits for a message before failing the test. */
const WAIT_MS = 5000;

interface Waiter {
  match: (m: Msg) => boolean;
  resolve: (m: Msg) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A test's view of one WebSocket client: every server message is parsed,
 * checked against the shared `ServerMessage` schema and kept, so a test can
 * `await next(...)` for the one it expects (each message is handed out once)
 * or look back at everything received so far.
 */
export class ChatClient {
  /** Every message received, in order. */
  readonly received: Msg[] = [];
  /** Frames that were not a valid `ServerMessage` (a contract violation). */
  readonly violations: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly taken = new Set<number>();
  private waiters: Waiter[] = [];
  private refs = 0;

  constructor(
    readonly connection: WebSocketConnection,
    readonly name: string,
  ) {
    this.closed = new Promise((resolve) => {
      connection.on('close', (code, reason) => {
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`${this.name}: the connection closed (${code} ${reason}) while waiting\n${this.describe()}`));
        }
        resolve({ code, reason });
      });
    });
    connection.on('error', () => {});
    connection.on('message', (data, isBinary) => this.receive(data.toString('utf8'), isBinary));
  }

  private receive(text: string, isBinary: boolean): void {
    let parsed: Msg;
    try {
      const raw: unknown = JSON.parse(text);
      const result = ServerMessage.safeParse(raw);
      if (isBinary || !result.success) {
        this.violations.push(`${isBinary ? 'binary frame' : result.error!.message}: ${text}`);
        this.failAll();
        return;
      }
      // Keep the raw object: the schema would drop unknown keys a test may want to see.
      parsed = raw as Msg;
    } catch {
      this.violations.push(`not JSON: ${text}`);
      this.failAll();
      return;
    }
    const index = this.received.push(parsed) - 1;
    const waiter = this.waiters.find((w) => w.match(parsed));
    if (waiter) {
      this.taken.add(index);
      this.waiters = this.waiters.filter((w) => w !== waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(parsed);
    }
  }

  private failAll(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${this.name}: the server sent a message outside the contract: ${this.violations.at(-1)}`));
    }
  }

  private describe(): string {
    const last = this.received.slice(-15).map((m) => `  ${JSON.stringify(m)}`);
    return `last messages received by ${this.name}:\n${last.join('\n') || '  (none)'}`;
  }

  /** Sends a JSON message. */
  send(message: object): void {
    this.connection.send(JSON.stringify(message));
  }

  /** Sends text (or a binary frame for a Buffer) exactly as given. */
  sendRaw(data: string | Buffer): void {
    this.connection.send(data);
  }

  /** A new `ref`, unique on this client. */
  ref(): string {
    return `${this.name}-${++this.refs}`;
  }

  /** Sends `message` with a fresh `ref` and resolves with the reply that echoes it (of any type, errors included). */
  call(message: object): Promise<Msg & { ref?: string | number }> {
    const ref = this.ref();
    this.send({ ...message, ref });
    return this.nextWhere((m) => 'ref' in m && m.ref === ref);
  }

  /** The first message of `type` matching `where` not handed out before; waits for it if need be. */
  next<T extends Msg['type']>(type: T, where: (m: OfType<T>) => boolean = () => true, timeoutMs = WAIT_MS): Promise<OfType<T>> {
    return this.nextWhere((m) => m.type === type && where(m as OfType<T>), timeoutMs) as Promise<OfType<T>>;
  }

  nextWhere(match: (m: Msg) => boolean, timeoutMs = WAIT_MS): Promise<Msg> {
    if (this.violations.length > 0) {
      return Promise.reject(new Error(`${this.name}: the server sent a message outside the contract: ${this.violations[0]}`));
    }
    const index = this.received.findIndex((m, i) => !this.taken.has(i) && match(m));
    if (index >= 0) {
      this.taken.add(index);
      return Promise.resolve(this.received[index]!);
    }
    if (this.connection.readyState === ReadyState.Closed) {
      return Promise.reject(new Error(`${this.name}: the connection is closed\n${this.describe()}`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`${this.name}: no matching message within ${timeoutMs} ms\n${this.describe()}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once a message of `type` matching `where` has arrived, whether or not it was handed out already. */
  seen<T extends Msg['type']>(type: T, where: (m: OfType<T>) => boolean = () => true, timeoutMs = WAIT_MS): Promise<OfType<T>> {
    const found = this.all(type, where)[0];
    return found ? Promise.resolve(found) : this.next(type, where, timeoutMs);
  }

  /** Every message of `type` received so far (handed out or not). */
  all<T extends Msg['type']>(type: T, where: (m: OfType<T>) => boolean = () => true): OfType<T>[] {
    return this.received.filter((m): m is OfType<T> => m.type === type && where(m as OfType<T>));
  }

  /** Joins a room and resolves with the `joined` reply (fails the test on an error reply). */
  async join(room: string, extra: { since?: number; presence?: 'batched' } = {}): Promise<OfType<'joined'>> {
    const reply = await this.call({ type: 'join', room, ...extra });
    if (reply.type !== 'joined') throw new Error(`${this.name}: join ${room} answered ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Sends a chat message and resolves with the sender's own copy (fails the test on an error reply). */
  async say(room: string, text: string, clientMsgId: string = randomUUID()): Promise<OfType<'message'>> {
    const reply = await this.call({ type: 'send', room, text, clientMsgId });
    if (reply.type !== 'message') throw new Error(`${this.name}: send to ${room} answered ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Closes with `code` and resolves once the connection is closed. */
  async close(code = 1000): Promise<void> {
    if (this.connection.readyState === ReadyState.Closed) return;
    if (this.connection.readyState === ReadyState.Open) this.connection.close(code);
    await this.closed;
  }
}

export interface ClientOptions {
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  /** The whole `Cookie` header. */
  cookie?: string;
  origin?: string;
  /** Default: ['chat.v1']. */
  protocols?: string[];
  /** Name used in refs and failure messages. */
  name?: string;
  /** More request headers for the upgrade. */
  headers?: Record<string, string>;
}

/** Opens a WebSocket to the server's /ws with our own client; closed with the server. */
export async function openClient(server: TestServer, options: ClientOptions = {}): Promise<ChatClient> {
  const connection = await openConnection(server, options);
  const client = new ChatClient(connection, options.name ?? 'client');
  server.onClose(() => client.close());
  return client;
}

/** The bare handshake (rejects with the HandshakeError of a refused upgrade). */
export function openConnection(server: TestServer, options: ClientOptions = {}): Promise<WebSocketConnection> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.origin !== undefined) headers.origin = options.origin;
  Object.assign(headers, options.headers);
  return connect(server.wsUrl, { headers, protocols: options.protocols ?? [CHAT_SUBPROTOCOL] });
}
