/** The GUID appended to `Sec-WebSocket-Key` before hashing. @see RFC 6455 §1.3 */
export const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes. @see RFC 6455 §5.2 */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Close status codes this package sends or interprets. @see RFC 6455 §7.4.1 */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Never sent on the wire: "no status code was present". */
  NoStatus: 1005,
  /** Never sent on the wire: "the connection closed without a close frame". */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Connection states, numbered as the browser's `WebSocket.readyState`. */
export const ReadyState = {
  Connecting: 0,
  Open: 1,
  Closing: 2,
  Closed: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** RFC 6455 §5.5: control frames carry at most 125 bytes of payload. */
export const MAX_CONTROL_PAYLOAD = 125;

/** Default `maxPayload`: the largest message (after inflation) a connection accepts. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

/**
 * Default `maxBufferedBytes`: the send backlog past which a connection that
 * keeps making us answer (pings whose pongs it does not read) is closed with 1013.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * What a control frame queued for the socket costs beyond its payload, in
 * `bufferedAmount`: its header and Node's write-queue entry for it (an object,
 * its callback), rounded up. Without it a flood of empty pings would look free.
 */
export const CONTROL_FRAME_OVERHEAD = 128;

/** The four bytes a sync flush ends with; RFC 7692 §7.2.1 strips them, §7.2.2 puts them back. */
export const DEFLATE_TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
