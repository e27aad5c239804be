import { createHash } from 'node:crypto';

/** Bytes from hex written for people: spaces, newlines and `0x` prefixes are ignored. */
export function hex(text: string): Buffer {
  const digits = text.replace(/0x/gi, '').replace(/[^0-9a-f]/gi, '');
  if (digits.length % 2 !== 0) throw new Error(`odd number of hex digits in ${JSON.stringify(text)}`);
  return Buffer.from(digits, 'hex');
}

/** A short, readable description of bytes for assertion messages. */
export function describeBytes(buf: Uint8Array): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  if (b.length <= 64) return b.toString('hex');
  return `${b.length} bytes sha1=${createHash('sha1').update(b).digest('hex')}`;
}

/** Mulberry32: a tiny seeded PRNG, so every "random" test replays exactly. */
export function createRng(seed: number): { next(): number; int(max: number): number; bytes(n: number): Buffer } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** An integer in [0, max). */
    int: (max: number) => Math.floor(next() * max),
    bytes: (n: number) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

/** Cuts `buf` into pieces of random sizes (1 to `maxPiece` bytes). */
export function randomChunks(buf: Buffer, rng: ReturnType<typeof createRng>, maxPiece = 64): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + rng.int(maxPiece);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

export interface Chunking {
  label: string;
  chunks: Buffer[];
}

/**
 * Every way a decoder fixture is fed: whole, byte by byte, and split in two at
 * every boundary. The chunks are views into `input`; callers that let the
 * decoder unmask in place must copy `input` per chunking (see `freshChunks`).
 */
export function* chunkings(input: Buffer): Generator<Chunking> {
  yield { label: 'whole', chunks: [input] };
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  yield { label: 'byte by byte', chunks: bytes };
  for (let i = 1; i < input.length; i++) {
    yield { label: `split at ${i}`, chunks: [input.subarray(0, i), input.subarray(i)] };
  }
}

/** The chunks over a private copy of their bytes, for decoders that write into their input. */
export function freshChunks(chunks: Buffer[]): Buffer[] {
  return chunks.map((c) => Buffer.from(c));
}
