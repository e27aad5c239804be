import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketConnection, type ConnectionOptions } from './connection.js';
import { HandshakeError } from './errors.js';
import {
  buildClientRequestHeaders,
  createClientKey,
  validateServerResponse,
  type ClientHandshakeOptions,
} from './handshake.js';
import type { PerMessageDeflateOptions } from './permessage-deflate.js';

export interface ConnectOptions extends ClientHandshakeOptions, ConnectionOptions {
  /** Extra request headers (e.g. `Cookie`, `Authorization`, `Origin`). */
  headers?: Record<string, string>;
  /** Give up if the server has not completed the handshake in this time. Default 10000. */
  handshakeTimeoutMs?: number;
  /** For `wss:` URLs: passed to `https.request` (e.g. `ca`, `rejectUnauthorized`). */
  tls?: https.RequestOptions;
}

/**
 * Opens a client connection to a `ws:` or `wss:` URL. Resolves once the
 * server's `101` response has been verified (RFC 6455 §4.1); rejects with a
 * `HandshakeError` (its `status` is the server's, or 0) otherwise.
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  const target = typeof url === 'string' ? new URL(url) : url;
  if (target.protocol !== 'ws:' && target.protocol !== 'wss:') {
    return Promise.reject(new SyntaxError(`a WebSocket URL starts with ws: or wss:, not ${target.protocol}`));
  }
  if (target.hash) return Promise.reject(new SyntaxError('a WebSocket URL has no fragment (RFC 6455 §3)'));
  const secure = target.protocol === 'wss:';
  const key = createClientKey();
  let headers: Record<string, string>;
  try {
    headers = { ...options.headers, ...buildClientRequestHeaders(key, options) };
  } catch (err) {
    return Promise.reject(err);
  }

  return new Promise((resolve, reject) => {
    const requestOptions: https.RequestOptions = {
      ...(secure ? options.tls : {}),
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || (secure ? 443 : 80),
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers,
      agent: false,
    };
    const request = (secure ? https : http).request(requestOptions);
    let settled = false;
    const timer = setTimeout(() => {
      abort(new HandshakeError(0, 'the opening handshake timed out'));
    }, options.handshakeTimeoutMs ?? 10_000);
    timer.unref();
    const abort = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(err);
    };

    request.on('error', abort);
    request.on('response', (response) => {
      response.resume();
      abort(new HandshakeError(response.statusCode ?? 0, `the server answered ${response.statusCode} instead of 101`));
    });
    request.on('upgrade', (response, socket: Duplex, head: Buffer) => {
      if (settled) {
        socket.destroy();
        return;
      }
      let agreed: ReturnType<typeof validateServerResponse>;
      try {
        agreed = validateServerResponse(response, key, options);
      } catch (err) {
        socket.destroy();
        return abort(err as Error);
      }
      settled = true;
      clearTimeout(timer);
      resolve(
        new WebSocketConnection(socket, head, {
          ...options,
          role: 'client',
          protocol: agreed.protocol,
          extensions: agreed.extensions,
          deflate: agreed.deflate,
          deflateOptions:
            typeof options.perMessageDeflate === 'object' ? (options.perMessageDeflate as PerMessageDeflateOptions) : {},
        }),
      );
    });
    request.end();
  });
}
