import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketConnection, type ConnectionOptions } from './connection.js';
import { formatHttpError, negotiateServerHandshake, type ServerHandshakeOptions } from './handshake.js';
import type { PerMessageDeflateOptions } from './permessage-deflate.js';

export interface AcceptOptions extends ServerHandshakeOptions, ConnectionOptions {}

/**
 * Answers an HTTP upgrade request (a Node `'upgrade'` event): on success
 * writes `101` and returns the open connection; otherwise writes the HTTP
 * error the handshake calls for (400, 403, 405, 426, 505), closes the socket
 * and returns undefined. Never throws for anything the client sent.
 */
export function acceptUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: AcceptOptions = {},
): WebSocketConnection | undefined {
  const result = negotiateServerHandshake(request, options);
  if (!result.ok) {
    rejectUpgrade(socket, result.error.status, result.error.message, result.error.headers);
    return undefined;
  }
  if (socket.destroyed || !socket.writable) return undefined;
  socket.write(result.response);
  return new WebSocketConnection(socket, head, {
    ...options,
    role: 'server',
    protocol: result.protocol,
    extensions: result.extensions,
    deflate: result.deflate,
    deflateOptions: typeof options.perMessageDeflate === 'object' ? (options.perMessageDeflate as PerMessageDeflateOptions) : {},
  });
}

/** Refuses an upgrade with a plain-text HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  // A client gone before we answer must not become an unhandled 'error'.
  socket.on('error', () => socket.destroy());
  if (socket.writable) socket.end(formatHttpError(status, message, headers));
  else socket.destroy();
}

/**
 * Drops connections to `server` that have not completed an upgrade request
 * within `timeoutMs` of connecting (a slowloris defence for WebSocket-only
 * servers). Plain HTTP requests also disarm it; Node's own `headersTimeout`
 * and `requestTimeout` govern those.
 */
export function limitHandshakeTime(server: Server, timeoutMs: number): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  // One listener for every socket (not a closure each), and removed once
  // disarmed: an upgraded connection keeps nothing of this for its lifetime.
  function disarmOnClose(this: Socket): void {
    disarm(this);
  }
  const disarm = (socket: Socket) => {
    const timer = timers.get(socket);
    if (timer) {
      clearTimeout(timer);
      timers.delete(socket);
      socket.removeListener('close', disarmOnClose);
    }
  };
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    timer.unref();
    timers.set(socket, timer);
    socket.on('close', disarmOnClose);
  });
  server.on('upgrade', (request: IncomingMessage) => disarm(request.socket));
  server.on('request', (request: IncomingMessage) => disarm(request.socket));
}
