import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, test } from 'vitest';
import { HandshakeError } from '../src/errors.js';
import {
  buildClientRequestHeaders,
  computeAccept,
  createClientKey,
  formatHttpError,
  headerHasToken,
  negotiateServerHandshake,
  validateServerResponse,
  type ServerHandshakeOptions,
  type UpgradeRequest,
} from '../src/handshake.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function request(headers: IncomingHttpHeaders = {}, extra: Partial<UpgradeRequest> = {}): UpgradeRequest {
  return {
    method: 'GET',
    httpVersion: '1.1',
    headers: {
      host: 'server.example.com',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': RFC_KEY,
      'sec-websocket-version': '13',
      ...headers,
    },
    ...extra,
  };
}

function refusal(req: UpgradeRequest, options: ServerHandshakeOptions = {}): HandshakeError {
  const result = negotiateServerHandshake(req, options);
  if (result.ok) throw new Error('expected the handshake to be refused');
  return result.error;
}

function accepted(req: UpgradeRequest, options: ServerHandshakeOptions = {}) {
  const result = negotiateServerHandshake(req, options);
  if (!result.ok) throw new Error(`expected the handshake to succeed: ${result.error.message}`);
  return result;
}

describe('computeAccept', () => {
  test('derives the accept value of RFC 6455 §1.3 from its sample nonce', () => {
    expect(computeAccept(RFC_KEY)).toBe(RFC_ACCEPT);
  });
});

describe('createClientKey', () => {
  test('makes 16 random bytes in base64, fresh each time', () => {
    const keys = new Set(Array.from({ length: 50 }, () => createClientKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(Buffer.from(key, 'base64')).toHaveLength(16);
    }
  });
});

describe('headerHasToken', () => {
  test.each([
    ['Upgrade', true],
    ['upgrade', true],
    ['UPGRADE', true],
    ['keep-alive, Upgrade', true],
    ['keep-alive,upgrade', true],
    ['  Upgrade  ,keep-alive', true],
    ['keep-alive', false],
    ['Upgraded', false],
    ['', false],
  ])('finds "upgrade" in %j: %s', (value, found) => {
    expect(headerHasToken(value, 'upgrade')).toBe(found);
  });

  test('finds nothing in a missing header', () => {
    expect(headerHasToken(undefined, 'upgrade')).toBe(false);
  });
});

describe('negotiateServerHandshake', () => {
  test('answers the sample request of RFC 6455 §1.3 with its exact 101 response', () => {
    const result = accepted(request());
    expect(result.response).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\n\r\n`,
    );
    expect(result.protocol).toBeUndefined();
    expect(result.deflate).toBeUndefined();
    expect(result.extensions).toBe('');
  });

  test.each(['POST', 'HEAD', 'get', undefined])('refuses method %s with 405 and Allow: GET', (method) => {
    const error = refusal(request({}, { method }));
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.status).toBe(405);
    expect(error.headers).toEqual({ Allow: 'GET' });
  });

  test.each(['1.0', '0.9'])('refuses HTTP/%s with 505', (httpVersion) => {
    expect(refusal(request({}, { httpVersion })).status).toBe(505);
  });

  test.each(['1.1', '2.0'])('accepts HTTP/%s', (httpVersion) => {
    expect(negotiateServerHandshake(request({}, { httpVersion })).ok).toBe(true);
  });

  test('refuses a request without Host with 400', () => {
    expect(refusal(request({ host: undefined })).status).toBe(400);
    expect(refusal(request({ host: '' })).status).toBe(400);
  });

  test.each([
    ['missing', undefined],
    ['another protocol', 'h2c'],
    ['a near miss', 'websockets'],
  ])('refuses an Upgrade header that is %s with 400', (_what, upgrade) => {
    expect(refusal(request({ upgrade })).status).toBe(400);
  });

  test.each([
    ['missing', undefined],
    ['keep-alive only', 'keep-alive'],
    ['close', 'close'],
  ])('refuses a Connection header that is %s with 400', (_what, connection) => {
    expect(refusal(request({ connection })).status).toBe(400);
  });

  test.each([
    ['WebSocket', 'Upgrade'],
    ['WEBSOCKET', 'upgrade'],
    ['h2c, websocket', 'keep-alive, Upgrade'],
    ['websocket', 'keep-alive,UPGRADE'],
  ])('accepts Upgrade: %s with Connection: %s (case-insensitive tokens in lists)', (upgrade, connection) => {
    expect(negotiateServerHandshake(request({ upgrade, connection })).ok).toBe(true);
  });

  test.each([
    ['missing', undefined],
    ['empty', ''],
    ['not base64', '!!!!!!!!!!!!!!!!!!!!!!=='],
    ['15 bytes', Buffer.alloc(15).toString('base64')],
    ['17 bytes', Buffer.alloc(17).toString('base64')],
    ['unpadded', 'dGhlIHNhbXBsZSBub25jZQ'],
  ])('refuses a Sec-WebSocket-Key that is %s with 400', (_what, key) => {
    expect(refusal(request({ 'sec-websocket-key': key })).status).toBe(400);
  });

  test.each([
    ['missing', undefined],
    ['8', '8'],
    ['12', '12'],
    ['14', '14'],
    ['a list', '13, 8'],
  ])('refuses Sec-WebSocket-Version %s with 426 and Sec-WebSocket-Version: 13', (_what, version) => {
    const error = refusal(request({ 'sec-websocket-version': version }));
    expect(error.status).toBe(426);
    expect(error.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
  });

  test('refuses an Origin the hook rejects with 403, and passes the Origin to it', () => {
    const seen: Array<string | undefined> = [];
    const verifyOrigin = (origin: string | undefined) => {
      seen.push(origin);
      return origin === 'https://good.example';
    };
    expect(refusal(request({ origin: 'https://evil.example' }), { verifyOrigin }).status).toBe(403);
    expect(refusal(request(), { verifyOrigin }).status).toBe(403);
    expect(negotiateServerHandshake(request({ origin: 'https://good.example' }), { verifyOrigin }).ok).toBe(true);
    expect(seen).toEqual(['https://evil.example', undefined, 'https://good.example']);
  });

  test('checks the request before the Origin: a bad version is 426 even from a refused Origin', () => {
    expect(refusal(request({ origin: 'x', 'sec-websocket-version': '8' }), { verifyOrigin: () => false }).status).toBe(426);
  });

  describe('subprotocols', () => {
    test('picks the server\'s most preferred protocol among those offered', () => {
      const result = accepted(request({ 'sec-websocket-protocol': 'chat.v1, chat.v2' }), { protocols: ['chat.v2', 'chat.v1'] });
      expect(result.protocol).toBe('chat.v2');
      expect(result.response).toContain('\r\nSec-WebSocket-Protocol: chat.v2\r\n');
    });

    test('selects none when nothing offered is spoken, and sends no header', () => {
      const result = accepted(request({ 'sec-websocket-protocol': 'a, b' }), { protocols: ['c'] });
      expect(result.protocol).toBeUndefined();
      expect(result.response).not.toMatch(/Sec-WebSocket-Protocol/i);
    });

    test('selects none when the client offers none, whatever the server speaks', () => {
      expect(accepted(request(), { protocols: ['a'] }).protocol).toBeUndefined();
    });

    test('lets a function choose, but never a protocol the client did not offer', () => {
      expect(accepted(request({ 'sec-websocket-protocol': 'a, b' }), { protocols: (offered) => offered[1] }).protocol).toBe('b');
      expect(accepted(request({ 'sec-websocket-protocol': 'a, b' }), { protocols: () => 'z' }).protocol).toBeUndefined();
      expect(accepted(request({ 'sec-websocket-protocol': 'a' }), { protocols: () => undefined }).protocol).toBeUndefined();
    });

    test.each([
      ['a duplicate', 'a, a'],
      ['an empty element', 'a, , b'],
      ['a non-token', 'a b'],
    ])('refuses an offer with %s with 400', (_what, value) => {
      expect(refusal(request({ 'sec-websocket-protocol': value }), { protocols: ['a'] }).status).toBe(400);
    });
  });

  describe('extensions', () => {
    test('accepts permessage-deflate when enabled and offered', () => {
      const result = accepted(request({ 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' }), {
        perMessageDeflate: true,
      });
      expect(result.extensions).toBe('permessage-deflate');
      expect(result.response).toContain('\r\nSec-WebSocket-Extensions: permessage-deflate\r\n');
      expect(result.deflate).toEqual({
        serverNoContextTakeover: false,
        clientNoContextTakeover: false,
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 15,
      });
    });

    test('passes its permessage-deflate options to the negotiation', () => {
      const result = accepted(request({ 'sec-websocket-extensions': 'permessage-deflate' }), {
        perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 },
      });
      expect(result.extensions).toBe('permessage-deflate; server_no_context_takeover; server_max_window_bits=10');
    });

    test('ignores offers when permessage-deflate is off', () => {
      const result = accepted(request({ 'sec-websocket-extensions': 'permessage-deflate' }));
      expect(result.extensions).toBe('');
      expect(result.deflate).toBeUndefined();
      expect(result.response).not.toMatch(/Sec-WebSocket-Extensions/i);
    });

    test('accepts nothing when no offer is acceptable', () => {
      const result = accepted(request({ 'sec-websocket-extensions': 'permessage-deflate; server_max_window_bits=8, foo' }), {
        perMessageDeflate: true,
      });
      expect(result.extensions).toBe('');
      expect(result.deflate).toBeUndefined();
    });

    test('refuses a malformed Sec-WebSocket-Extensions header with 400', () => {
      const error = refusal(request({ 'sec-websocket-extensions': 'permessage-deflate; x="unterminated' }), {
        perMessageDeflate: true,
      });
      expect(error.status).toBe(400);
    });
  });
});

describe('formatHttpError', () => {
  test('writes a complete response with a body, its length and extra headers', () => {
    expect(formatHttpError(426, 'Sec-WebSocket-Version must be 13', { 'Sec-WebSocket-Version': '13' })).toBe(
      'HTTP/1.1 426 Upgrade Required\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 33\r\n' +
        'Sec-WebSocket-Version: 13\r\n' +
        '\r\n' +
        'Sec-WebSocket-Version must be 13\n',
    );
  });

  test('counts the body length in bytes, not characters', () => {
    expect(formatHttpError(400, '€')).toContain('Content-Length: 4\r\n');
  });
});

describe('buildClientRequestHeaders', () => {
  test('asks for version 13 with the key (RFC 6455 §4.1)', () => {
    expect(buildClientRequestHeaders(RFC_KEY, {})).toEqual({
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': RFC_KEY,
      'Sec-WebSocket-Version': '13',
    });
  });

  test('offers subprotocols and permessage-deflate', () => {
    const headers = buildClientRequestHeaders(RFC_KEY, { protocols: ['a', 'b'], perMessageDeflate: { serverNoContextTakeover: true } });
    expect(headers['Sec-WebSocket-Protocol']).toBe('a, b');
    expect(headers['Sec-WebSocket-Extensions']).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits');
  });

  test('refuses a subprotocol that is not a token', () => {
    expect(() => buildClientRequestHeaders(RFC_KEY, { protocols: ['a b'] })).toThrow(SyntaxError);
  });
});

describe('validateServerResponse', () => {
  const good = (headers: IncomingHttpHeaders = {}) => ({
    statusCode: 101,
    headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': RFC_ACCEPT, ...headers },
  });

  test('accepts the sample response of RFC 6455 §1.3', () => {
    expect(validateServerResponse(good(), RFC_KEY, {})).toEqual({ protocol: undefined, deflate: undefined, extensions: '' });
  });

  test.each([
    ['a status other than 101', { statusCode: 200, headers: good().headers }],
    ['a wrong accept value', good({ 'sec-websocket-accept': computeAccept('AAAAAAAAAAAAAAAAAAAAAA==') })],
    ['no accept value', good({ 'sec-websocket-accept': undefined })],
    ['no Upgrade header', good({ upgrade: undefined })],
    ['Upgrade: h2c', good({ upgrade: 'h2c' })],
    ['no Connection header', good({ connection: undefined })],
  ])('refuses %s', (_what, response) => {
    expect(() => validateServerResponse(response, RFC_KEY, {})).toThrow(HandshakeError);
  });

  test('accepts case-insensitive Upgrade and Connection tokens', () => {
    expect(() => validateServerResponse(good({ upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }), RFC_KEY, {})).not.toThrow();
  });

  test('accepts a subprotocol it offered', () => {
    expect(validateServerResponse(good({ 'sec-websocket-protocol': 'b' }), RFC_KEY, { protocols: ['a', 'b'] }).protocol).toBe('b');
  });

  test('refuses a subprotocol it did not offer', () => {
    expect(() => validateServerResponse(good({ 'sec-websocket-protocol': 'c' }), RFC_KEY, { protocols: ['a', 'b'] })).toThrow(
      HandshakeError,
    );
    expect(() => validateServerResponse(good({ 'sec-websocket-protocol': 'a' }), RFC_KEY, {})).toThrow(HandshakeError);
  });

  test('accepts permessage-deflate it offered and returns the agreed parameters', () => {
    const result = validateServerResponse(
      good({ 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10' }),
      RFC_KEY,
      { perMessageDeflate: true },
    );
    expect(result.deflate).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 10,
    });
    expect(result.extensions).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits=10');
  });

  test.each([
    ['permessage-deflate when none was offered', 'permessage-deflate', {}],
    ['an extension that was never offered', 'x-webkit-deflate-frame', { perMessageDeflate: true }],
    ['permessage-deflate twice', 'permessage-deflate, permessage-deflate', { perMessageDeflate: true }],
    ['parameters it cannot honour', 'permessage-deflate; client_max_window_bits=8', { perMessageDeflate: true }],
    ['a malformed header', 'permessage-deflate;', { perMessageDeflate: true }],
  ] as const)('refuses %s', (_what, extensions, options) => {
    expect(() => validateServerResponse(good({ 'sec-websocket-extensions': extensions }), RFC_KEY, options)).toThrow(HandshakeError);
  });
});
