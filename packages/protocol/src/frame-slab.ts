/**
 * Memory for chat-sized client frames.
 *
 * A masked frame is a new buffer every time (the caller's data must not be
 * masked in place). `Buffer.allocUnsafe` carves small buffers out of Node's
 * 8 KiB pool, so a client sending 125-byte lines pays for a new ArrayBuffer —
 * a backing store, its accounting and its release by the GC — every ~60
 * frames. Carving them from 64 KiB slabs pays that every ~480 frames: over
 * six full `pnpm bench` runs this moved the 125 B masked encode from
 * 0.85–1.03× `ws` to 1.11–1.18×, and 16 B from 1.26–1.35× to 1.54–1.77×.
 *
 * The cost is what a slab retains: a frame still referenced (queued on a
 * stalled socket, say) keeps its whole slab alive, at most 64 KiB. Frames
 * above `SLAB_MAX_FRAME` get their own memory, as before, so one large
 * frame never pins a slab nor a slab a large frame.
 */

const SLAB_SIZE = 64 * 1024;
/** Larger frames are allocated on their own (at least 16 of these fit a slab). */
export const SLAB_MAX_FRAME = 4 * 1024;

/**
 * A Uint8Array with Buffer's methods over part of a slab: what Node's own
 * pooled buffers are (its internal `FastBuffer`), which a library cannot
 * reach. `Buffer.from(arrayBuffer, offset, length)` makes the same object
 * but checks its arguments at a cost higher than the frame's encoding.
 */
class SlabBuffer extends Uint8Array {}
Object.setPrototypeOf(SlabBuffer.prototype, Buffer.prototype);
// As FastBuffer's does: a frame's constructor is Buffer, so nothing can tell it from one.
Object.defineProperty(SlabBuffer.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

// Unzeroed, like Node's pool: every byte of a frame is written before it leaves.
const newSlab = (): ArrayBuffer => Buffer.allocUnsafeSlow(SLAB_SIZE).buffer as ArrayBuffer;

let slab = newSlab();
let used = 0;

/** A new buffer of `size` bytes, uninitialised: the caller writes all of it. */
export function allocFrame(size: number): Buffer {
  if (size > SLAB_MAX_FRAME) return Buffer.allocUnsafe(size);
  if (used + size > SLAB_SIZE) {
    slab = newSlab();
    used = 0;
  }
  const frame = new SlabBuffer(slab, used, size) as unknown as Buffer;
  // 8-byte aligned starts, as Node's pool keeps them: word-wise masking stays aligned.
  used = (used + size + 7) & ~7;
  return frame;
}
