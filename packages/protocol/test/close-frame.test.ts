import { describe, expect, test } from 'vitest';
import { buildClosePayload, isValidCloseCode, parseClosePayload } from '../src/close-frame.js';
import { ProtocolErrorCode } from '../src/errors.js';
import { hex } from './helpers/bytes.js';
import { expectProtocolError } from './helpers/recorders.js';

const INVALID = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('isValidCloseCode', () => {
  test.each(VALID)('allows %i on the wire', (code) => {
    expect(isValidCloseCode(code)).toBe(true);
  });

  test.each(INVALID)('forbids %i on the wire', (code) => {
    expect(isValidCloseCode(code)).toBe(false);
  });
});

describe('parseClosePayload', () => {
  test('reads an empty payload as 1005, no status', () => {
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: 1005, reason: '' });
  });

  test('reads a code without a reason', () => {
    expect(parseClosePayload(hex('03 e8'))).toEqual({ code: 1000, reason: '' });
  });

  test('reads a code and a UTF-8 reason', () => {
    expect(parseClosePayload(Buffer.concat([hex('0f a0'), Buffer.from('au revoir €')]))).toEqual({
      code: 4000,
      reason: 'au revoir €',
    });
  });

  test('fails a payload of 1 byte with 1002', () => {
    expectProtocolError(thrown(() => parseClosePayload(hex('03'))), ProtocolErrorCode.InvalidClosePayload, 1002);
  });

  test.each(INVALID)('fails close code %i with 1002', (code) => {
    const payload = Buffer.from([code >> 8, code & 0xff]);
    expectProtocolError(thrown(() => parseClosePayload(payload)), ProtocolErrorCode.InvalidCloseCode, 1002);
  });

  test.each(VALID)('accepts close code %i', (code) => {
    expect(parseClosePayload(Buffer.from([code >> 8, code & 0xff])).code).toBe(code);
  });

  test.each([
    ['an overlong NUL', 'c0 80'],
    ['a surrogate', 'ed a0 80'],
    ['a truncated character', 'e2 82'],
    ['a stray continuation byte', '80'],
  ])('fails a reason containing %s with 1007', (_what, bytes) => {
    const payload = Buffer.concat([hex('03 e8'), Buffer.from('ok'), hex(bytes)]);
    expectProtocolError(thrown(() => parseClosePayload(payload)), ProtocolErrorCode.InvalidUtf8, 1007);
  });
});

describe('buildClosePayload', () => {
  test('builds an empty payload when there is no code, or 1005', () => {
    expect(buildClosePayload()).toEqual(Buffer.alloc(0));
    expect(buildClosePayload(1005)).toEqual(Buffer.alloc(0));
  });

  test('builds a code and reason in network byte order', () => {
    expect(buildClosePayload(1001, 'bye')).toEqual(hex('03 e9 62 79 65'));
    expect(buildClosePayload(4999)).toEqual(hex('13 87'));
  });

  test('allows a reason of exactly 123 bytes, counting UTF-8 bytes', () => {
    const reason = '€'.repeat(41); // 123 bytes
    const payload = buildClosePayload(1000, reason);
    expect(payload.length).toBe(125);
    expect(parseClosePayload(payload)).toEqual({ code: 1000, reason });
  });

  test('refuses a reason over 123 bytes with a RangeError', () => {
    expect(() => buildClosePayload(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(() => buildClosePayload(1000, `${'€'.repeat(41)}x`)).toThrow(RangeError);
  });

  test('refuses a reason without a code', () => {
    expect(() => buildClosePayload(undefined, 'why')).toThrow(RangeError);
  });

  test.each([1004, 1006, 1015, 999, 2000, 5000])('refuses to send close code %i', (code) => {
    expect(() => buildClosePayload(code)).toThrow(RangeError);
  });

  test('round-trips every valid code', () => {
    for (const code of VALID) expect(parseClosePayload(buildClosePayload(code, 'r'))).toEqual({ code, reason: 'r' });
  });
});
