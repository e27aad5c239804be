import { CloseCode } from './constants.js';
import { ProtocolError, ProtocolErrorCode, protocolError } from './errors.js';
import { isValidUtf8 } from './utf8.js';

/**
 * Whether `code` may appear in a close frame on the wire. RFC 6455 §7.4.1 and
 * the IANA registry: 1000–1014 except 1004 (reserved), 1005 and 1006 (never
 * sent); 3000–4999 for libraries, frameworks and applications.
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) return code !== 1004 && code !== 1005 && code !== 1006;
  return code >= 3000 && code <= 4999;
}

/** Parses a close frame payload (RFC 6455 §5.5.1); 1005 stands for "no code". */
export function parseClosePayload(payload: Buffer): { code: number; reason: string } {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: '' };
  if (payload.length === 1) {
    throw protocolError(ProtocolErrorCode.InvalidClosePayload, 'a close frame payload of 1 byte has no room for a code');
  }
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) {
    throw protocolError(ProtocolErrorCode.InvalidCloseCode, `invalid close code ${code}`);
  }
  const reason = payload.subarray(2);
  // RFC 6455 §5.5.1: the reason is UTF-8 text.
  if (!isValidUtf8(reason)) {
    throw new ProtocolError(ProtocolErrorCode.InvalidUtf8, CloseCode.InvalidPayload, 'the close reason is not valid UTF-8');
  }
  return { code, reason: reason.toString('utf8') };
}

/**
 * Builds a close frame payload. Throws a `RangeError` (a caller's mistake, not
 * the peer's) for a code that may not be sent or a reason over 123 bytes.
 */
export function buildClosePayload(code?: number, reason = ''): Buffer {
  if (code === undefined || code === CloseCode.NoStatus) {
    if (reason !== '') throw new RangeError('a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!isValidCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
  const reasonLength = Buffer.byteLength(reason);
  // RFC 6455 §5.5: 125 bytes of control payload, 2 of them the code.
  if (reasonLength > 123) throw new RangeError('a close reason is at most 123 bytes');
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}
