import { describe, expect, test } from 'vitest';
import * as api from '../src/index.js';
import { ProtocolError, ProtocolErrorCode, HandshakeError, protocolError } from '../src/errors.js';

describe('the public API', () => {
  test('exports the small surface the README documents, and no parser internals', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'CloseCode',
        'DEFAULT_MAX_BUFFERED_BYTES',
        'DEFAULT_MAX_PAYLOAD',
        'HandshakeError',
        'Opcode',
        'ProtocolError',
        'ProtocolErrorCode',
        'ReadyState',
        'WebSocketConnection',
        'acceptUpgrade',
        'computeAccept',
        'connect',
        'encodeFrameBuffer',
        'isValidCloseCode',
        'limitHandshakeTime',
        'maskBackend',
        'maskFallbackReason',
        'negotiateServerHandshake',
        'rejectUpgrade',
      ].sort(),
    );
  });

  test('numbers opcodes as RFC 6455 §5.2 does', () => {
    expect(api.Opcode).toEqual({ Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 });
  });

  test('numbers close codes as RFC 6455 §7.4.1 does', () => {
    expect(api.CloseCode).toEqual({
      Normal: 1000,
      GoingAway: 1001,
      ProtocolError: 1002,
      UnsupportedData: 1003,
      NoStatus: 1005,
      Abnormal: 1006,
      InvalidPayload: 1007,
      PolicyViolation: 1008,
      MessageTooBig: 1009,
      MandatoryExtension: 1010,
      InternalError: 1011,
      ServiceRestart: 1012,
      TryAgainLater: 1013,
    });
  });

  test('numbers ready states as browsers do', () => {
    expect(api.ReadyState).toEqual({ Connecting: 0, Open: 1, Closing: 2, Closed: 3 });
  });

  test('limits messages to 16 MiB by default', () => {
    expect(api.DEFAULT_MAX_PAYLOAD).toBe(16 * 1024 * 1024);
    expect(api.DEFAULT_MAX_BUFFERED_BYTES).toBe(16 * 1024 * 1024);
  });
});

describe('errors', () => {
  test('every protocol error code is a distinct ERR_ string', () => {
    const codes = Object.values(ProtocolErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  test('a ProtocolError carries its code and close code, and is an Error', () => {
    const err = new ProtocolError(ProtocolErrorCode.InvalidUtf8, 1007, 'bad text');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ProtocolError');
    expect(err.message).toBe('bad text');
    expect([err.code, err.closeCode]).toEqual(['ERR_INVALID_UTF8', 1007]);
  });

  test('protocolError() fails with 1002', () => {
    expect(protocolError(ProtocolErrorCode.ReservedBits, 'x').closeCode).toBe(1002);
  });

  test('a HandshakeError carries the HTTP status and headers to answer with', () => {
    const err = new HandshakeError(426, 'upgrade required', { 'Sec-WebSocket-Version': '13' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('HandshakeError');
    expect(err.status).toBe(426);
    expect(err.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
    expect(new HandshakeError(400, 'x').headers).toEqual({});
  });
});
