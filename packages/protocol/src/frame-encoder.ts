import { applyMask, writeMaskKey } from './mask.js';

/** Payloads up to this size are copied behind their header into one buffer: one write instead of two. */
const MERGE_LIMIT = 2048;

export interface EncodeOptions {
  fin?: boolean;
  /** RSV1: the message is compressed (RFC 7692 §6). */
  rsv1?: boolean;
  /** Mask with a fresh random key: required for client frames (RFC 6455 §5.3). */
  mask?: boolean;
}

function headerSize(length: number, mask: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (mask ? 4 : 0);
}

/** Writes a frame header into `target` and returns its size; the mask key, if any, ends it. */
function writeHeader(target: Buffer, opcode: number, length: number, fin: boolean, rsv1: boolean, mask: boolean): number {
  target[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = mask ? 0x80 : 0;
  let p: number;
  // RFC 6455 §5.2: the shortest of the 7-bit, 16-bit and 64-bit length forms.
  if (length < 126) {
    target[1] = maskBit | length;
    p = 2;
  } else if (length < 0x10000) {
    target[1] = maskBit | 126;
    target.writeUInt16BE(length, 2);
    p = 4;
  } else {
    target[1] = maskBit | 127;
    target.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    target.writeUInt32BE(length >>> 0, 6);
    p = 10;
  }
  if (mask) {
    writeMaskKey(target, p);
    p += 4;
  }
  return p;
}

/**
 * Encodes one frame as buffers to write in order. Server frames keep a large
 * payload as its own buffer (no copy); client frames are always copied, since
 * masking must not alter the caller's data.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, options: EncodeOptions = {}): Buffer[] {
  const fin = options.fin ?? true;
  const rsv1 = options.rsv1 ?? false;
  const mask = options.mask ?? false;
  const length = payload.length;
  const size = headerSize(length, mask);
  if (mask || length <= MERGE_LIMIT) {
    const frame = Buffer.allocUnsafe(size + length);
    writeHeader(frame, opcode, length, fin, rsv1, mask);
    frame.set(payload, size);
    if (mask && length > 0) applyMask(frame.subarray(size), frame.subarray(size - 4, size));
    return [frame];
  }
  const header = Buffer.allocUnsafe(size);
  writeHeader(header, opcode, length, fin, rsv1, false);
  return [header, payload instanceof Buffer ? payload : Buffer.from(payload.buffer, payload.byteOffset, length)];
}

/** Encodes one frame into a single buffer (convenient for tests and broadcast). */
export function encodeFrameBuffer(opcode: number, payload: Uint8Array, options: EncodeOptions = {}): Buffer {
  const parts = encodeFrame(opcode, payload, options);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
