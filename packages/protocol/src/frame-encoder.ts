import { allocFrame } from './frame-slab.js';
import { maskPayloadInto, writeMaskKey } from './mask.js';

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
    target[2] = length >>> 8;
    target[3] = length & 0xff;
    p = 4;
  } else {
    target[1] = maskBit | 127;
    // Byte by byte: cheaper than writeUInt32BE's argument checks, and lengths stay below 2^53.
    const high = Math.floor(length / 0x1_0000_0000);
    target[2] = high >>> 24;
    target[3] = (high >>> 16) & 0xff;
    target[4] = (high >>> 8) & 0xff;
    target[5] = high & 0xff;
    target[6] = length >>> 24;
    target[7] = (length >>> 16) & 0xff;
    target[8] = (length >>> 8) & 0xff;
    target[9] = length & 0xff;
    p = 10;
  }
  if (mask) {
    writeMaskKey(target, p);
    p += 4;
  }
  return p;
}

const asBuffer = (data: Uint8Array): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);

/**
 * Encodes one frame as one or two buffers to write in order; they must not
 * be modified (headers are shared, see `shortHeaders` and `longHeader`). Unmasked
 * (server) frames are a header and the caller's payload, never copied;
 * masked (client) frames are one new buffer, since masking must not alter the
 * caller's data.
 *
 * @param fin last frame of the message (default true)
 * @param rsv1 the message is compressed (RFC 7692 §6; default false)
 * @param mask mask with a fresh random key, as clients must (RFC 6455 §5.3; default false)
 */
export function encodeFrame(opcode: number, payload: Uint8Array, fin = true, rsv1 = false, mask = false): Buffer[] {
  return mask ? [encodeMasked(opcode, payload, fin, rsv1)] : encodeUnmasked(opcode, payload, fin, rsv1);
}

/**
 * Two-byte headers of unmasked frames under 126 bytes, by first byte and
 * length, made once: every such frame's header is the same two bytes, and
 * the connection only ever hands a header to the socket, never changes it.
 * Chat messages are short, so most frames a server sends allocate nothing.
 */
const shortHeaders: Array<Array<Buffer | undefined> | undefined> = [];

function shortHeader(first: number, length: number): Buffer {
  const byLength = (shortHeaders[first] ??= []);
  let header = byLength[length];
  if (header === undefined) {
    header = Buffer.from([first, length]);
    byLength[length] = header;
  }
  return header;
}

/**
 * The last header made for a frame of 126 bytes or more, kept for the next
 * one: a stream of equal-sized frames (file chunks, media, a benchmark's
 * 64 KiB payloads) shares one header, as short frames do, instead of
 * allocating one per frame. Never changed once made, like the short ones.
 */
let lastHeader: Buffer | undefined;
let lastFirst = -1;
let lastLength = -1;

function longHeader(first: number, length: number): Buffer {
  if (length === lastLength && first === lastFirst) return lastHeader!;
  const header = Buffer.allocUnsafe(length < 0x10000 ? 4 : 10);
  writeHeader(header, first & 0x0f, length, (first & 0x80) !== 0, (first & 0x40) !== 0, false);
  lastHeader = header;
  lastFirst = first;
  lastLength = length;
  return header;
}

/** A server frame: a header and the caller's payload, never copied (kept small so it inlines). */
function encodeUnmasked(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean): Buffer[] {
  const length = payload.length;
  const first = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const header = length < 126 ? shortHeader(first, length) : longHeader(first, length);
  // The connection writes both under one cork.
  return length === 0 ? [header] : [header, payload instanceof Buffer ? payload : asBuffer(payload)];
}

/** A client frame: one new buffer, header and masked copy (masking must not alter the caller's data). */
function encodeMasked(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean): Buffer {
  const length = payload.length;
  const headerSize = (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + 4;
  const frame = allocFrame(headerSize + length);
  writeHeader(frame, opcode, length, fin, rsv1, true);
  maskPayloadInto(payload, frame, headerSize);
  return frame;
}

/** Encodes one frame into a single buffer (for broadcast: encode once, write to many). */
export function encodeFrameBuffer(opcode: number, payload: Uint8Array, fin = true, rsv1 = false, mask = false): Buffer {
  if (mask) return encodeMasked(opcode, payload, fin, rsv1);
  const length = payload.length;
  const headerSize = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerSize + length);
  writeHeader(frame, opcode, length, fin, rsv1, false);
  frame.set(payload, headerSize);
  return frame;
}
