import { randomFillSync } from 'node:crypto';

/**
 * XORs `buf` in place with the 4-byte `mask`, starting at mask index
 * `maskOffset` (non-zero when a payload is unmasked in pieces). RFC 6455 §5.3.
 *
 * Long buffers are processed a 32-bit word at a time over the aligned middle.
 */
export function applyMask(buf: Uint8Array, mask: Uint8Array, maskOffset = 0): void {
  const len = buf.length;
  let i = 0;
  if (len >= 32) {
    // Bytes until the view is 4-byte aligned, as Uint32Array requires.
    const lead = (4 - (buf.byteOffset & 3)) & 3;
    for (; i < lead; i++) buf[i] = buf[i]! ^ mask[(i + maskOffset) & 3]!;
    const words = (len - lead) >>> 2;
    const o = maskOffset + lead;
    // The word mask, as the four mask bytes lie in memory from index `o` on.
    const m0 = mask[o & 3]!;
    const m1 = mask[(o + 1) & 3]!;
    const m2 = mask[(o + 2) & 3]!;
    const m3 = mask[(o + 3) & 3]!;
    const word = LITTLE_ENDIAN
      ? (m0 | (m1 << 8) | (m2 << 16) | (m3 << 24)) >>> 0
      : ((m0 << 24) | (m1 << 16) | (m2 << 8) | m3) >>> 0;
    const view = new Uint32Array(buf.buffer, buf.byteOffset + lead, words);
    for (let w = 0; w < words; w++) view[w] = view[w]! ^ word;
    i = lead + words * 4;
  }
  for (; i < len; i++) buf[i] = buf[i]! ^ mask[(i + maskOffset) & 3]!;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Mask keys come from a pool filled by the CSPRNG (RFC 6455 §10.3: keys must
 * be unpredictable), so that a client does not pay a `randomFill` call per frame.
 */
const POOL_SIZE = 8 * 1024;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Writes a fresh random 4-byte mask key into `target` at `offset`. */
export function writeMaskKey(target: Uint8Array, offset: number): void {
  if (poolOffset === POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  target[offset] = pool[poolOffset]!;
  target[offset + 1] = pool[poolOffset + 1]!;
  target[offset + 2] = pool[poolOffset + 2]!;
  target[offset + 3] = pool[poolOffset + 3]!;
  poolOffset += 4;
}
