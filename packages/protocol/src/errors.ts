import { CloseCode } from './constants.js';

/**
 * Why a peer's input was refused. Every code maps to the close code the
 * connection is failed with; the table is in the package README.
 */
export const ProtocolErrorCode = {
  UnmaskedFrame: 'ERR_UNMASKED_FRAME',
  MaskedFrame: 'ERR_MASKED_FRAME',
  ReservedBits: 'ERR_RESERVED_BITS',
  ReservedOpcode: 'ERR_RESERVED_OPCODE',
  ControlTooLong: 'ERR_CONTROL_TOO_LONG',
  ControlFragmented: 'ERR_CONTROL_FRAGMENTED',
  UnexpectedContinuation: 'ERR_UNEXPECTED_CONTINUATION',
  ExpectedContinuation: 'ERR_EXPECTED_CONTINUATION',
  InvalidLength: 'ERR_INVALID_LENGTH',
  InvalidCloseCode: 'ERR_INVALID_CLOSE_CODE',
  InvalidClosePayload: 'ERR_INVALID_CLOSE_PAYLOAD',
  InvalidUtf8: 'ERR_INVALID_UTF8',
  InvalidCompressedData: 'ERR_INVALID_COMPRESSED_DATA',
  MessageTooBig: 'ERR_MESSAGE_TOO_BIG',
  SendBufferFull: 'ERR_SEND_BUFFER_FULL',
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/** A violation by the peer; the connection is failed with `closeCode`. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const protocolError = (code: ProtocolErrorCode, message: string): ProtocolError =>
  new ProtocolError(code, CloseCode.ProtocolError, message);

/** A handshake that could not complete: carries the HTTP status the server answers with. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
