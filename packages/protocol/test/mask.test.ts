import { describe, expect, test } from 'vitest';
import { applyMask, maskInto, writeMaskKey } from '../src/mask.js';
import { createRng, hex } from './helpers/bytes.js';

/** RFC 6455 §5.3, byte at a time: the reference the fast path must match. */
function naiveMask(buf: Uint8Array, mask: Uint8Array, offset: number): Buffer {
  const out = Buffer.from(buf);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ mask[(i + offset) & 3]!;
  return out;
}

describe('applyMask', () => {
  test('masks "Hello" with the key of RFC 6455 §5.7', () => {
    const payload = Buffer.from('Hello');
    applyMask(payload, hex('37 fa 21 3d'));
    expect(payload).toEqual(hex('7f 9f 4d 51 58'));
  });

  test('unmasks what it masked', () => {
    const rng = createRng(7);
    const original = rng.bytes(1000);
    const buf = Buffer.from(original);
    const key = rng.bytes(4);
    applyMask(buf, key);
    expect(buf.equals(original)).toBe(false);
    applyMask(buf, key);
    expect(buf).toEqual(original);
  });

  test('matches the byte-at-a-time definition for every length, alignment and mask offset', () => {
    const rng = createRng(99);
    const key = hex('a1 b2 c3 d4');
    const backing = rng.bytes(300);
    const mismatches: string[] = [];
    for (let length = 0; length <= 140; length++) {
      for (let align = 0; align < 4; align++) {
        for (let offset = 0; offset < 4; offset++) {
          // A view that starts at every alignment of the backing store, as socket chunks do.
          const view = Buffer.from(backing).subarray(align, align + length);
          const expected = naiveMask(view, key, offset);
          applyMask(view, key, offset);
          if (!view.equals(expected)) mismatches.push(`length ${length} align ${align} offset ${offset}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  test('matches the definition on long buffers too, across every internal chunk size, alignment and offset', () => {
    const rng = createRng(1234);
    const key = rng.bytes(4);
    const mismatches: string[] = [];
    for (const length of [255, 256, 511, 512, 513, 1023, 4096, 65535, 65536, 65537, 131_072, 200_001]) {
      const backing = rng.bytes(length + 8);
      for (const align of [0, 1, 3]) {
        for (const offset of [0, 1, 2, 3]) {
          const view = Buffer.from(backing).subarray(align, align + length);
          const expected = naiveMask(view, key, offset);
          applyMask(view, key, offset);
          if (!view.equals(expected)) mismatches.push(`length ${length} align ${align} offset ${offset}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  test('gives the same bytes when a payload is unmasked in pieces, carrying the mask offset', () => {
    const rng = createRng(3);
    const key = rng.bytes(4);
    const payload = rng.bytes(150_001);
    const whole = Buffer.from(payload);
    applyMask(whole, key);
    for (const cut of [1, 2, 3, 5, 33, 100, 401, 513, 65_537, 150_000]) {
      const pieces = Buffer.from(payload);
      applyMask(pieces.subarray(0, cut), key, 0);
      applyMask(pieces.subarray(cut), key, cut & 3);
      expect(pieces.equals(whole), `cut at ${cut}`).toBe(true);
    }
  });

  test('leaves the bytes around the view untouched', () => {
    const buf = Buffer.alloc(80, 0x55);
    applyMask(buf.subarray(3, 77), hex('ff ff ff ff'));
    expect(buf.subarray(0, 3)).toEqual(Buffer.alloc(3, 0x55));
    expect(buf.subarray(77)).toEqual(Buffer.alloc(3, 0x55));
    expect(buf.subarray(3, 77)).toEqual(Buffer.alloc(74, 0xaa));
  });
});

describe('maskInto', () => {
  test('writes the masked bytes at the target offset and leaves the source untouched', () => {
    const rng = createRng(11);
    const key = rng.bytes(4);
    for (const length of [0, 1, 7, 100, 511, 512, 1000, 70_000, 140_001]) {
      const source = rng.bytes(length);
      const before = Buffer.from(source);
      const target = Buffer.alloc(length + 20, 0xee);
      maskInto(source, key, target, 13);
      expect(source.equals(before), `${length}: source`).toBe(true);
      expect(target.subarray(13, 13 + length).equals(naiveMask(source, key, 0)), `${length}: masked`).toBe(true);
      expect(target.subarray(0, 13).equals(Buffer.alloc(13, 0xee)), `${length}: before`).toBe(true);
      expect(target.subarray(13 + length).equals(Buffer.alloc(7, 0xee)), `${length}: after`).toBe(true);
    }
  });
});

describe('writeMaskKey', () => {
  test('writes four bytes at the offset and nothing else', () => {
    const target = Buffer.alloc(10, 0xee);
    writeMaskKey(target, 3);
    expect(target.subarray(0, 3)).toEqual(Buffer.alloc(3, 0xee));
    expect(target.subarray(7)).toEqual(Buffer.alloc(3, 0xee));
  });

  test('gives unpredictable keys: thousands of keys, across pool refills, are nearly all distinct', () => {
    // RFC 6455 §10.3: a key must not be derivable from earlier ones. 5000 keys
    // span several refills of the 8 KiB pool.
    const keys = new Set<number>();
    const target = Buffer.alloc(4);
    for (let i = 0; i < 5000; i++) {
      writeMaskKey(target, 0);
      keys.add(target.readUInt32BE(0));
    }
    // A birthday collision among 5000 random 32-bit keys is possible but rare.
    expect(keys.size).toBeGreaterThan(4990);
  });
});
