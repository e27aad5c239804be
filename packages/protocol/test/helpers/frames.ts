import { encodeFrameBuffer } from '../../src/frame-encoder.js';

export interface FrameOptions {
  /** Default true. */
  fin?: boolean;
  /** Default false. */
  rsv1?: boolean;
  /** Mask with a fresh random key, as a client must. Default false. */
  mask?: boolean;
}

/**
 * One frame's bytes, from the package's own encoder: the one place the
 * decoder, connection and echo tests depend on the encoder's signature.
 */
export function frameBytes(opcode: number, payload: Uint8Array | string, options: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return encodeFrameBuffer(opcode, data, options.fin ?? true, options.rsv1 ?? false, options.mask ?? false);
}
