import { createHash, randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { HANDSHAKE_GUID } from './constants.js';
import { ExtensionHeaderError, formatExtensionHeader, parseExtensionHeader, type ExtensionOffer } from './extension-header.js';
import { HandshakeError } from './errors.js';
import {
  EXTENSION_NAME,
  acceptDeflateOffer,
  acceptDeflateResponse,
  buildDeflateOffer,
  type DeflateParams,
  type PerMessageDeflateOptions,
} from './permessage-deflate.js';

/** `Sec-WebSocket-Accept` for a key. RFC 6455 §1.3, §4.2.2 step 5.4. */
export function computeAccept(key: string): string {
  return createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64. RFC 6455 §4.1. */
export function createClientKey(): string {
  return randomBytes(16).toString('base64');
}

/** The parts of an HTTP request the handshake reads (an `IncomingMessage` fits). */
export interface UpgradeRequest {
  method?: string | undefined;
  httpVersion: string;
  headers: IncomingHttpHeaders;
}

/** How a server answers an opening handshake. */
export interface ServerHandshakeOptions {
  /**
   * Subprotocols the server speaks, in order of preference, or a function that
   * picks one of those the client offered. Default: none (never selects one).
   */
  protocols?: readonly string[] | ((offered: string[]) => string | undefined);
  /** Enable permessage-deflate (RFC 7692) with these settings. Default: off. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Decides whether a browser's `Origin` may connect; a false answer gives 403. Default: all. */
  verifyOrigin?: (origin: string | undefined) => boolean;
}

export type ServerHandshakeResult =
  | {
      ok: true;
      /** The `101 Switching Protocols` response, ready to write. */
      response: string;
      protocol: string | undefined;
      deflate: DeflateParams | undefined;
      /** The `Sec-WebSocket-Extensions` value sent, '' when none. */
      extensions: string;
    }
  | { ok: false; error: HandshakeError };

/** RFC 7230 §3.2.6 token, as subprotocol names must be (RFC 6455 §4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** 16 bytes in base64 are 22 characters and "==" (RFC 6455 §4.2.1 step 5). */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Whether a comma-separated header contains `token`, compared case-insensitively. */
export function headerHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(',').some((part) => part.trim().toLowerCase() === token);
}

const fail = (status: number, message: string, headers: Record<string, string> = {}): ServerHandshakeResult => ({
  ok: false,
  error: new HandshakeError(status, message, headers),
});

/**
 * Validates a client's opening handshake and decides the response, following
 * RFC 6455 §4.2.1 (reading the request) and §4.2.2 (answering it). Pure: no I/O.
 */
export function negotiateServerHandshake(
  request: UpgradeRequest,
  options: ServerHandshakeOptions = {},
): ServerHandshakeResult {
  const { headers } = request;
  // 1. The method is GET and the version at least HTTP/1.1.
  if (request.method !== 'GET') return fail(405, 'a WebSocket handshake must use GET', { Allow: 'GET' });
  const [major = 0, minor = 0] = request.httpVersion.split('.').map(Number);
  if (major < 1 || (major === 1 && minor < 1)) return fail(505, 'a WebSocket handshake needs HTTP/1.1 or later');
  // 2. A Host header.
  if (!headers.host) return fail(400, 'the Host header is missing');
  // 3. Upgrade: websocket.
  if (!headerHasToken(headerValue(headers, 'upgrade'), 'websocket')) {
    return fail(400, 'the Upgrade header must include "websocket"');
  }
  // 4. Connection: Upgrade.
  if (!headerHasToken(headerValue(headers, 'connection'), 'upgrade')) {
    return fail(400, 'the Connection header must include "Upgrade"');
  }
  // 5. Sec-WebSocket-Key: 16 bytes, base64.
  const key = headerValue(headers, 'sec-websocket-key')?.trim();
  if (key === undefined || !KEY.test(key) || Buffer.from(key, 'base64').length !== 16) {
    return fail(400, 'Sec-WebSocket-Key must be 16 bytes in base64');
  }
  // 6. Sec-WebSocket-Version: 13, or 426 naming the version we speak (§4.4).
  if (headerValue(headers, 'sec-websocket-version')?.trim() !== '13') {
    return fail(426, 'Sec-WebSocket-Version must be 13', { 'Sec-WebSocket-Version': '13' });
  }
  // 7. Origin, for browser clients (§10.2).
  if (options.verifyOrigin && !options.verifyOrigin(headerValue(headers, 'origin'))) {
    return fail(403, 'this Origin is not allowed');
  }
  // 8. Subprotocol: at most one of those offered.
  let protocol: string | undefined;
  const protocolHeader = headerValue(headers, 'sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    const offered = protocolHeader.split(',').map((p) => p.trim());
    if (offered.some((p) => !TOKEN.test(p)) || new Set(offered).size !== offered.length) {
      return fail(400, 'Sec-WebSocket-Protocol must be a list of distinct tokens');
    }
    const choose = options.protocols;
    if (typeof choose === 'function') {
      protocol = choose(offered);
      if (protocol !== undefined && !offered.includes(protocol)) protocol = undefined;
    } else if (choose) {
      protocol = choose.find((p) => offered.includes(p));
    }
  }
  // 9. Extensions: permessage-deflate if enabled and offered acceptably.
  let deflate: DeflateParams | undefined;
  let extensions = '';
  const extensionHeader = headerValue(headers, 'sec-websocket-extensions');
  if (extensionHeader !== undefined && options.perMessageDeflate) {
    let offers: ExtensionOffer[];
    try {
      offers = parseExtensionHeader(extensionHeader);
    } catch (err) {
      if (err instanceof ExtensionHeaderError) return fail(400, `invalid Sec-WebSocket-Extensions: ${err.message}`);
      throw err;
    }
    const deflateOptions = options.perMessageDeflate === true ? {} : options.perMessageDeflate;
    const accepted = acceptDeflateOffer(offers, deflateOptions);
    if (accepted) {
      deflate = accepted.params;
      extensions = formatExtensionHeader([accepted.response]);
    }
  }

  let response =
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${computeAccept(key)}\r\n`;
  if (protocol !== undefined) response += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== '') response += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  response += '\r\n';
  return { ok: true, response, protocol, deflate, extensions };
}

/** A complete plain-text HTTP error response for a refused upgrade. */
export function formatHttpError(status: number, message: string, headers: Record<string, string> = {}): string {
  const body = `${message}\n`;
  let out = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const [name, value] of Object.entries(headers)) out += `${name}: ${value}\r\n`;
  return `${out}\r\n${body}`;
}

/** What a client asks for in its opening handshake. */
export interface ClientHandshakeOptions {
  protocols?: readonly string[];
  /** Offer permessage-deflate with these settings. Default: off. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** The request headers a client sends (RFC 6455 §4.1), besides Host. */
export function buildClientRequestHeaders(key: string, options: ClientHandshakeOptions): Record<string, string> {
  const headers: Record<string, string> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  if (options.protocols && options.protocols.length > 0) {
    for (const p of options.protocols) if (!TOKEN.test(p)) throw new SyntaxError(`invalid subprotocol ${JSON.stringify(p)}`);
    headers['Sec-WebSocket-Protocol'] = options.protocols.join(', ');
  }
  if (options.perMessageDeflate) {
    const deflateOptions = options.perMessageDeflate === true ? {} : options.perMessageDeflate;
    headers['Sec-WebSocket-Extensions'] = formatExtensionHeader([buildDeflateOffer(deflateOptions)]);
  }
  return headers;
}

/** The response a client reads (status and headers, as `IncomingMessage` has them). */
export interface UpgradeResponse {
  statusCode?: number | undefined;
  headers: IncomingHttpHeaders;
}

/**
 * Checks the server's answer (RFC 6455 §4.1, the client's steps 1–6) and
 * returns the agreed subprotocol and extensions; throws `HandshakeError`
 * (with status 0 for a response that is not acceptable) otherwise.
 */
export function validateServerResponse(
  response: UpgradeResponse,
  key: string,
  options: ClientHandshakeOptions,
): { protocol: string | undefined; deflate: DeflateParams | undefined; extensions: string } {
  const bad = (message: string) => new HandshakeError(response.statusCode ?? 0, message);
  const { headers } = response;
  if (response.statusCode !== 101) throw bad(`the server answered ${response.statusCode} instead of 101`);
  if (!headerHasToken(headerValue(headers, 'upgrade'), 'websocket')) throw bad('the Upgrade header is not "websocket"');
  if (!headerHasToken(headerValue(headers, 'connection'), 'upgrade')) throw bad('the Connection header is not "Upgrade"');
  if (headerValue(headers, 'sec-websocket-accept') !== computeAccept(key)) throw bad('Sec-WebSocket-Accept does not match the key');

  const protocol = headerValue(headers, 'sec-websocket-protocol');
  if (protocol !== undefined && !(options.protocols ?? []).includes(protocol)) {
    throw bad(`the server chose a subprotocol that was not offered: ${protocol}`);
  }

  let deflate: DeflateParams | undefined;
  const extensionHeader = headerValue(headers, 'sec-websocket-extensions');
  if (extensionHeader !== undefined) {
    let accepted: ExtensionOffer[];
    try {
      accepted = parseExtensionHeader(extensionHeader);
    } catch (err) {
      throw bad(`invalid Sec-WebSocket-Extensions: ${(err as Error).message}`);
    }
    if (!options.perMessageDeflate) throw bad('the server accepted an extension that was not offered');
    if (accepted.length !== 1 || accepted[0]!.name !== EXTENSION_NAME) {
      throw bad('the server accepted an extension that was not offered');
    }
    const deflateOptions = options.perMessageDeflate === true ? {} : options.perMessageDeflate;
    const result = acceptDeflateResponse(accepted[0]!, deflateOptions);
    if (typeof result === 'string') throw bad(result);
    deflate = result;
  }
  return { protocol, deflate, extensions: extensionHeader ?? '' };
}
