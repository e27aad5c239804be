import type { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketConnection } from '../../src/connection.js';
import { FrameParser } from '../../src/frame-parser.js';
import { acceptUpgrade, type AcceptOptions } from '../../src/server.js';
import { computeAccept, createClientKey } from '../../src/handshake.js';
import { RecordingFrameSink, type RecordedEvent } from './recorders.js';

/**
 * Everything a test opens, released in `afterEach`: servers stop listening and
 * every socket they or the test opened is destroyed.
 */
export class Resources {
  private readonly releases: Array<() => Promise<void> | void> = [];

  add(release: () => Promise<void> | void): void {
    this.releases.push(release);
  }

  /** Tracks every connection a server accepts, so that closing it never waits on a peer. */
  server<S extends net.Server>(server: S): S {
    const sockets = new Set<net.Socket>();
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    this.add(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          if (!server.listening) return resolve();
          server.close(() => resolve());
        }),
    );
    return server;
  }

  socket<S extends Duplex>(socket: S): S {
    this.add(() => {
      socket.destroy();
    });
    return socket;
  }

  async release(): Promise<void> {
    const releases = this.releases.splice(0).reverse();
    for (const release of releases) await release();
  }
}

/** Resolves with the arguments of the next `event` (never rejects on 'error', unlike events.once). */
export function next<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

export async function listen<S extends net.Server>(server: S): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export interface TestServer {
  server: http.Server;
  port: number;
  url: string;
  /** Connections in the order they were accepted. */
  connections: WebSocketConnection[];
  /** The raw socket of each accepted connection. */
  sockets: Duplex[];
  /** Resolves with the next connection accepted. */
  nextConnection(): Promise<WebSocketConnection>;
}

/**
 * An HTTP server on 127.0.0.1, port 0, that upgrades every request with
 * `acceptUpgrade(options)`. `onConnection` runs synchronously on each, before
 * any frame is read (the place to attach listeners).
 */
export async function startServer(
  resources: Resources,
  options: AcceptOptions = {},
  onConnection?: (connection: WebSocketConnection, request: http.IncomingMessage) => void,
): Promise<TestServer> {
  const server = resources.server(http.createServer());
  const connections: WebSocketConnection[] = [];
  const sockets: Duplex[] = [];
  const waiting: Array<(c: WebSocketConnection) => void> = [];
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const connection = acceptUpgrade(request, socket, head, options);
    if (!connection) return;
    connections.push(connection);
    sockets.push(socket);
    onConnection?.(connection, request);
    waiting.shift()?.(connection);
  });
  const port = await listen(server);
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}`,
    connections,
    sockets,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

/** A connection handler that echoes every message back as it came. */
export const echo = (connection: WebSocketConnection): void => {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
};

/**
 * A peer that speaks raw bytes: it performs the opening handshake by hand and
 * then records the frames the server sends, so tests can send anything
 * (including what a real client never would) and see exactly what comes back.
 */
export class RawPeer {
  /** The opening handshake response, headers only. */
  response = '';
  closed = false;
  private readonly sink = new RecordingFrameSink();
  private readonly parser = new FrameParser(this.sink);
  private readonly waiters: Array<() => void> = [];

  constructor(readonly socket: net.Socket) {
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  /** Headers and payloads of the frames received so far, as the recorder saw them. */
  get frames(): RecordedEvent[] {
    return this.sink.events;
  }

  /** Feeds server bytes to the frame recorder. */
  receive(chunk: Buffer): void {
    this.parser.push(chunk);
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `predicate` holds; checked after every read and at close. */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) {
      if (this.closed) throw new Error('the socket closed before the condition held');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The payloads of the complete frames with `opcode` received so far. */
  payloads(opcode: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i + 1 < this.frames.length; i += 2) {
      const h = this.frames[i]!;
      const f = this.frames[i + 1]!;
      if (h.type === 'header' && f.type === 'frame' && h.opcode === opcode) {
        out.push(Array.isArray(f.payload) ? Buffer.concat(f.payload) : f.payload);
      }
    }
    return out;
  }

  /** Resolves when the server has closed the TCP connection. */
  async closedByServer(): Promise<void> {
    if (!this.closed) await next(this.socket, 'close');
  }

  write(data: Buffer): boolean {
    return this.socket.write(data);
  }
}

/**
 * Opens a TCP connection, sends an upgrade request (with extra or overriding
 * `headers`; a header set to '' is left out) and waits for the response head.
 * With `expectUpgrade`, frames after the 101 are recorded.
 */
export async function rawUpgrade(
  resources: Resources,
  port: number,
  headers: Record<string, string> = {},
  extraBytes?: Buffer,
): Promise<RawPeer> {
  const socket = resources.socket(net.connect(port, '127.0.0.1'));
  await next(socket, 'connect');
  const key = createClientKey();
  const all: Record<string, string> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(all)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const peer = new RawPeer(socket);
  const request = Buffer.from(`GET / HTTP/1.1\r\n${lines}\r\n`);
  socket.write(extraBytes ? Buffer.concat([request, extraBytes]) : request);

  let buffered = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      peer.response = buffered.subarray(0, end + 4).toString('latin1');
      const rest = buffered.subarray(end + 4);
      if (peer.response.startsWith('HTTP/1.1 101')) {
        const accept = /\r\nsec-websocket-accept: *([^\r]*)\r\n/i.exec(peer.response)?.[1];
        if (accept !== computeAccept(key)) return reject(new Error('wrong Sec-WebSocket-Accept'));
        socket.on('data', (c: Buffer) => peer.receive(c));
        if (rest.length > 0) peer.receive(rest);
      }
      resolve();
    };
    const onClose = () => {
      peer.response = buffered.toString('latin1');
      resolve();
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  return peer;
}
