import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MASK_WASM_BASE64 } from './mask-wasm.js';

/**
 * RFC 6455 §5.3 masking: XOR with a 4-byte key, repeating.
 *
 * Short buffers are done in JavaScript, a 32-bit word at a time. Long ones go
 * to the first of these that loads:
 * - `native`: our Node-API addon (native/mask.c, built by `pnpm build` where a
 *   C compiler exists). One pass over the bytes, as fast as memory allows.
 * - `wasm`: a 160-byte WebAssembly module (src/mask.wat) that XORs 16 bytes
 *   per SIMD instruction. It must copy each chunk into its memory and back, so
 *   it is 2–3× faster than JavaScript but behind the addon on large frames.
 * - `js`: the word loop alone.
 * `CHAT_MASK=native|wasm|js` picks one (for comparing them); `CHAT_NATIVE=0`
 * skips the addon.
 */

export type MaskBackend = 'native' | 'wasm' | 'js';

/** Below this many bytes the copies into WebAssembly memory cost more than they save. */
const WASM_THRESHOLD = 512;
/** Below this many bytes the word loop beats the cost of calling into the addon. */
const NATIVE_THRESHOLD = 256;
/** Bytes processed per WebAssembly call (the module's memory is 128 KiB). */
const WASM_CHUNK = 64 * 1024;

// The slice of the WebAssembly API used here (Node has it; its types ship with the DOM lib).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

interface MaskModule {
  heap: Uint8Array;
  mask: (ptr: number, len: number, word: number) => void;
}

function loadWasm(): MaskModule | undefined {
  try {
    const module = new WebAssembly.Module(Buffer.from(MASK_WASM_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(module);
    const exports = instance.exports as { memory: { buffer: ArrayBuffer }; mask: MaskModule['mask'] };
    return { heap: new Uint8Array(exports.memory.buffer), mask: exports.mask };
  } catch {
    // No WebAssembly SIMD here: the JavaScript path does all the work.
    return undefined;
  }
}

/** native/mask.c: `target[targetOffset + i] = source[i] ^ byte (i & 3) of key`, least significant byte first. */
type NativeMask = (source: Uint8Array, target: Uint8Array, targetOffset: number, key: number, copyFirst?: boolean) => void;

const ADDON = '../native/build/Release/chat_mask.node';

/** The addon, or why it does not load (scripts/build-native.mjs leaves its reason in native/build-failed.txt). */
function loadNative(): NativeMask | string {
  // src/ and dist/ are both one level below the package, so one path serves tests and builds.
  const require = createRequire(import.meta.url);
  try {
    return (require(ADDON) as { mask: NativeMask }).mask;
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') return `the addon does not load: ${(error as Error).message}`;
    try {
      const reason = readFileSync(new URL('../native/build-failed.txt', import.meta.url), 'utf8').split('\n')[0];
      return `the addon did not build: ${reason}`;
    } catch {
      return 'the addon is not built (`pnpm build` builds it where python3, make and a C compiler are found)';
    }
  }
}

const wanted = process.env.CHAT_MASK;
if (wanted !== undefined && wanted !== 'native' && wanted !== 'wasm' && wanted !== 'js') {
  throw new Error(`CHAT_MASK must be native, wasm or js, not ${JSON.stringify(wanted)}`);
}
const nativeOrReason =
  wanted !== undefined && wanted !== 'native' ? `CHAT_MASK=${wanted}` : process.env.CHAT_NATIVE === '0' ? 'CHAT_NATIVE=0' : loadNative();
const native = typeof nativeOrReason === 'function' ? nativeOrReason : undefined;
const wasm = native === undefined && wanted !== 'js' ? loadWasm() : undefined;
if (wanted !== undefined && (wanted === 'native' ? native : wanted === 'wasm' ? wasm : true) === undefined) {
  throw new Error(`CHAT_MASK=${wanted}, but that backend does not load here`);
}

/** Which implementation masks large buffers in this process. */
export const maskBackend: MaskBackend = native ? 'native' : wasm ? 'wasm' : 'js';
/** Why the addon is not the backend (undefined when it is): for start-up lines, so that a slower fallback is never silent. */
export const maskFallbackReason: string | undefined = typeof nativeOrReason === 'string' ? nativeOrReason : undefined;

/** The key as a little-endian word, rotated so that its first byte applies to index 0 after `offset`. */
function maskWord(mask: Uint8Array, offset: number): number {
  return (
    mask[offset & 3]! |
    (mask[(offset + 1) & 3]! << 8) |
    (mask[(offset + 2) & 3]! << 16) |
    (mask[(offset + 3) & 3]! << 24)
  );
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Below this many bytes a byte loop beats creating a word view. */
const WORD_THRESHOLD = 192;

function maskJs(buf: Uint8Array, mask: Uint8Array, maskOffset: number): void {
  const len = buf.length;
  let i = 0;
  if (len >= WORD_THRESHOLD && LITTLE_ENDIAN) {
    // Bytes until the view is 4-byte aligned, as Int32Array requires.
    const lead = (4 - (buf.byteOffset & 3)) & 3;
    for (; i < lead; i++) buf[i] = buf[i]! ^ mask[(i + maskOffset) & 3]!;
    const words = (len - lead) >>> 2;
    // Int32 (not Uint32): values stay small integers, which V8 keeps unboxed.
    const word = maskWord(mask, maskOffset + lead) | 0;
    const view = new Int32Array(buf.buffer, buf.byteOffset + lead, words);
    let w = 0;
    for (const end = words - (words & 3); w < end; w += 4) {
      view[w] = view[w]! ^ word;
      view[w + 1] = view[w + 1]! ^ word;
      view[w + 2] = view[w + 2]! ^ word;
      view[w + 3] = view[w + 3]! ^ word;
    }
    for (; w < words; w++) view[w] = view[w]! ^ word;
    i = lead + words * 4;
  }
  for (; i < len; i++) buf[i] = buf[i]! ^ mask[(i + maskOffset) & 3]!;
}

/**
 * Masks `source` into `target` at `targetOffset` (or in place when `target`
 * is `source`), starting at key index `maskOffset` — non-zero when a payload
 * is unmasked in pieces.
 */
function maskCopy(
  source: Uint8Array,
  mask: Uint8Array,
  maskOffset: number,
  target: Uint8Array,
  targetOffset: number,
  copyFirst = false,
): void {
  const len = source.length;
  if (native !== undefined && len >= NATIVE_THRESHOLD) {
    native(source, target, targetOffset, maskWord(mask, maskOffset), copyFirst);
    return;
  }
  if (wasm === undefined || len < WASM_THRESHOLD || !LITTLE_ENDIAN) {
    if (target !== source) target.set(source, targetOffset);
    maskJs(target === source ? source : target.subarray(targetOffset, targetOffset + len), mask, maskOffset);
    return;
  }
  const { heap, mask: run } = wasm;
  for (let done = 0; done < len; done += WASM_CHUNK) {
    const n = Math.min(WASM_CHUNK, len - done);
    heap.set(source.subarray(done, done + n), 0);
    // WASM_CHUNK is a multiple of 4, so every chunk starts at the same key phase.
    run(0, n, maskWord(mask, maskOffset));
    target.set(heap.subarray(0, n), targetOffset + done);
  }
}

/** XORs `buf` in place with `mask`, the first byte taking key index `maskOffset`. */
export function applyMask(buf: Uint8Array, mask: Uint8Array, maskOffset = 0): void {
  const len = buf.length;
  if (len < WORD_THRESHOLD) {
    // Chat-sized frames: the plainest loop is the fastest.
    const m0 = mask[maskOffset & 3]!;
    const m1 = mask[(maskOffset + 1) & 3]!;
    const m2 = mask[(maskOffset + 2) & 3]!;
    const m3 = mask[(maskOffset + 3) & 3]!;
    let i = 0;
    for (const end = len - (len & 3); i < end; i += 4) {
      buf[i] = buf[i]! ^ m0;
      buf[i + 1] = buf[i + 1]! ^ m1;
      buf[i + 2] = buf[i + 2]! ^ m2;
      buf[i + 3] = buf[i + 3]! ^ m3;
    }
    if (i < len) buf[i] = buf[i]! ^ m0;
    if (i + 1 < len) buf[i + 1] = buf[i + 1]! ^ m1;
    if (i + 2 < len) buf[i + 2] = buf[i + 2]! ^ m2;
    return;
  }
  maskCopy(buf, mask, maskOffset, buf, 0);
}

/**
 * Writes `source` masked with `mask` (from key index `maskOffset`) into
 * `target` at `targetOffset`, leaving the source untouched: copy and mask in
 * one go, for assembling an unmasked payload straight into its final buffer.
 */
export function maskInto(source: Uint8Array, mask: Uint8Array, target: Uint8Array, targetOffset: number, maskOffset = 0): void {
  // Received bytes into a payload being assembled: the addon copies first (see native/mask.c).
  maskCopy(source, mask, maskOffset, target, targetOffset, true);
}

/** Below this many bytes the encoder's fused loop beats calling into the addon. */
const NATIVE_FRAME_THRESHOLD = 96;

/**
 * Writes `source` masked into `frame` at `payloadOffset`, with the key the
 * frame already holds in the four bytes before it: a client frame's layout
 * (RFC 6455 §5.2). Copy and mask in one pass, the key never leaves the frame.
 */
export function maskPayloadInto(source: Uint8Array, frame: Uint8Array, payloadOffset: number): void {
  const length = source.length;
  const k = payloadOffset - 4;
  if (native !== undefined && length >= NATIVE_FRAME_THRESHOLD) {
    native(source, frame, payloadOffset, frame[k]! | (frame[k + 1]! << 8) | (frame[k + 2]! << 16) | (frame[k + 3]! << 24));
    return;
  }
  if (length >= 256) {
    maskCopy(source, frame.subarray(k, payloadOffset), 0, frame, payloadOffset);
    return;
  }
  // Short payloads: one fused copy-and-mask loop beats any setup.
  const m0 = frame[k]!;
  const m1 = frame[k + 1]!;
  const m2 = frame[k + 2]!;
  const m3 = frame[k + 3]!;
  let i = 0;
  for (const end = length & ~3; i < end; i += 4) {
    frame[payloadOffset + i] = source[i]! ^ m0;
    frame[payloadOffset + i + 1] = source[i + 1]! ^ m1;
    frame[payloadOffset + i + 2] = source[i + 2]! ^ m2;
    frame[payloadOffset + i + 3] = source[i + 3]! ^ m3;
  }
  if (i < length) frame[payloadOffset + i] = source[i]! ^ m0;
  if (i + 1 < length) frame[payloadOffset + i + 1] = source[i + 1]! ^ m1;
  if (i + 2 < length) frame[payloadOffset + i + 2] = source[i + 2]! ^ m2;
}

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
