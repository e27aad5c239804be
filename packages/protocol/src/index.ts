/**
 * @chat/protocol — RFC 6455 WebSocket and RFC 7692 permessage-deflate.
 *
 * The public surface: accept an upgrade, connect as a client, the connection,
 * the error types and the constants. The codec modules are exported too for
 * those who drive frames themselves (tests, benchmarks, fan-out).
 */
export { acceptUpgrade, limitHandshakeTime, rejectUpgrade, type AcceptOptions } from './server.js';
export { connect, type ConnectOptions } from './client.js';
export {
  WebSocketConnection,
  type ConnectionOptions,
  type SendCallback,
  type SendOptions,
  type WebSocketConnectionEvents,
} from './connection.js';
export { CloseCode, Opcode, ReadyState, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_PAYLOAD } from './constants.js';
export { HandshakeError, ProtocolError, ProtocolErrorCode } from './errors.js';
export { encodeFrameBuffer } from './frame-encoder.js';
export { maskBackend, maskFallbackReason, type MaskBackend } from './mask.js';
export { computeAccept, negotiateServerHandshake, type ServerHandshakeOptions } from './handshake.js';
export { isValidCloseCode } from './close-frame.js';
export type { PerMessageDeflateOptions } from './permessage-deflate.js';
