import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { maskBackend, maskFallbackReason, writeMaskKey } from '../src/mask.js';
import { createRng, hex } from './helpers/bytes.js';

type MaskModule = typeof import('../src/mask.js');

const addonPath = new URL('../native/build/Release/chat_mask.node', import.meta.url);
const addonBuilt = fs.existsSync(addonPath);

const onPath = (command: string) =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, command)));
// The root .pnpmfile.cjs finds Node's headers next to node itself and hands them to every build.
const { localNodeDir } = createRequire(import.meta.url)('../../../.pnpmfile.cjs') as { localNodeDir: () => string | undefined };
const canBuildAddon = ['python3', 'make', 'cc'].every(onPath) && localNodeDir() !== undefined;

/** A fresh copy of the module with `CHAT_MASK` forcing one backend. */
async function loadWith(backend: string): Promise<MaskModule> {
  vi.resetModules();
  vi.stubEnv('CHAT_MASK', backend);
  try {
    return await import('../src/mask.js');
  } finally {
    vi.unstubAllEnvs();
  }
}

describe('backend selection', () => {
  test('the addon is the default wherever it was built', () => {
    expect(maskBackend).toBe(addonBuilt ? 'native' : 'wasm');
  });

  // No environment switch makes this strict: wherever the addon can build, `pnpm build` must have built it,
  // so CI (which has the tools) fails instead of quietly falling back to WebAssembly.
  test.skipIf(!canBuildAddon)('where python3, make, a C compiler and Node\'s headers are found, the addon was built and loads', () => {
    expect(maskFallbackReason).toBeUndefined();
    expect(maskBackend).toBe('native');
  });

  test('a fallback always says why', async () => {
    expect((await loadWith('wasm')).maskFallbackReason).toBe('CHAT_MASK=wasm');
    vi.resetModules();
    vi.stubEnv('CHAT_NATIVE', '0');
    try {
      const skipped = await import('../src/mask.js');
      expect([skipped.maskBackend, skipped.maskFallbackReason]).toEqual(['wasm', 'CHAT_NATIVE=0']);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  test('CHAT_MASK names a backend or the module refuses to load', async () => {
    await expect(loadWith('simd')).rejects.toThrow(/CHAT_MASK must be native, wasm or js/);
    for (const backend of ['wasm', 'js']) expect((await loadWith(backend)).maskBackend).toBe(backend);
  });

  test.skipIf(!addonBuilt)('the addon checks its arguments: no write outside the target, whatever JavaScript passes', async () => {
    const { mask } = createRequire(import.meta.url)(addonPath.pathname) as {
      mask: (source: unknown, target: unknown, offset: unknown, key: unknown, copyFirst?: unknown) => void;
    };
    const key = 0x04030201;
    const source = Buffer.alloc(64, 0x10);
    const target = Buffer.alloc(80, 0xee);
    expect(() => mask(source, target, 17, key)).toThrow(/target is too short/);
    expect(() => mask(source, target.subarray(0, 63), 0, key)).toThrow(/target is too short/);
    for (const offset of [-1, 81, 2 ** 32 + 3, 1.5, Number.NaN]) {
      expect(() => mask(source, target, offset, key), String(offset)).toThrow(/targetOffset must be an index/);
    }
    expect(() => mask('text', target, 0, key)).toThrow(/Uint8Arrays/);
    expect(() => mask(source, new Uint16Array(64), 0, key)).toThrow(/Uint8Arrays/);
    expect(() => mask(source, target, 0, 'x')).toThrow(/numbers/);
    expect(() => mask(source, target, 0)).toThrow(/four or five arguments/);
    expect(() => mask(source, target, 0, key, 'yes')).toThrow(/copyFirst must be a boolean/);
    // Overlapping but not identical views would read bytes already written.
    const shared = Buffer.alloc(100);
    expect(() => mask(shared.subarray(0, 64), shared, 8, key)).toThrow(/overlap/);
    // Nothing was written by any refused call.
    expect(target.equals(Buffer.alloc(80, 0xee))).toBe(true);
    expect(shared.equals(Buffer.alloc(100))).toBe(true);
    // An accepted call writes exactly its span, the key's low byte first (an Int32 key, negative, works alike).
    mask(source, target, 16, key);
    expect(target.subarray(0, 16).equals(Buffer.alloc(16, 0xee))).toBe(true);
    expect(target.subarray(16, 80).equals(Buffer.from(source.map((b, i) => b ^ [1, 2, 3, 4][i & 3]!)))).toBe(true);
    mask(source, source, 0, 0xfffefdfc | 0);
    expect(source.equals(Buffer.from(Buffer.alloc(64, 0x10).map((b, i) => b ^ [0xfc, 0xfd, 0xfe, 0xff][i & 3]!)))).toBe(true);
  });
});

/** RFC 6455 §5.3, byte at a time: the reference the fast path must match. */
function naiveMask(buf: Uint8Array, mask: Uint8Array, offset: number): Buffer {
  const out = Buffer.from(buf);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ mask[(i + offset) & 3]!;
  return out;
}

const backends = [...(addonBuilt ? ['native'] : []), 'wasm', 'js'];

describe.each(backends)('%s backend', (backend) => {
  let applyMask: MaskModule['applyMask'];
  let maskInto: MaskModule['maskInto'];
  let maskPayloadInto: MaskModule['maskPayloadInto'];
  beforeAll(async () => {
    const mod = await loadWith(backend);
    expect(mod.maskBackend).toBe(backend);
    ({ applyMask, maskInto, maskPayloadInto } = mod);
  });
  afterAll(() => vi.resetModules());

  /**
   * applyMask on views of `backingFor(length)` starting at each alignment (as socket chunks do),
   * at each key offset, against the byte-at-a-time definition; the cases that differ.
   */
  function applyMaskMismatches(lengths: number[], aligns: number[], key: Buffer, backingFor: (length: number) => Buffer): string[] {
    const mismatches: string[] = [];
    for (const length of lengths) {
      const backing = backingFor(length);
      for (const align of aligns) {
        for (let offset = 0; offset < 4; offset++) {
          const view = Buffer.from(backing).subarray(align, align + length);
          const expected = naiveMask(view, key, offset);
          applyMask(view, key, offset);
          if (!view.equals(expected)) mismatches.push(`length ${length} align ${align} offset ${offset}`);
        }
      }
    }
    return mismatches;
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
      const lengths = Array.from({ length: 141 }, (_, i) => i);
      expect(applyMaskMismatches(lengths, [0, 1, 2, 3], key, () => backing)).toEqual([]);
    });

    test('matches the definition on long buffers too, across every internal chunk size, alignment and offset', () => {
      const rng = createRng(1234);
      const key = rng.bytes(4);
      const lengths = [255, 256, 511, 512, 513, 1023, 4096, 65535, 65536, 65537, 131_072, 200_001];
      expect(applyMaskMismatches(lengths, [0, 1, 3], key, (length) => rng.bytes(length + 8))).toEqual([]);
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

    test('copies around the size switch of the addon (1 MiB: streaming stores into mapped memory) match at every alignment and key phase', () => {
      const rng = createRng(5);
      const key = rng.bytes(4);
      const mismatches: string[] = [];
      for (const length of [(32 << 10) - 1, 32 << 10, (32 << 10) + 37, (1 << 20) - 1, 1 << 20, (1 << 20) + 37, 3 << 20]) {
        const source = rng.bytes(length);
        for (const targetOffset of [0, 1, 2, 3, 13]) {
          for (const maskOffset of [0, 1, 2, 3]) {
            // Zero-filled targets are mapped (streaming stores); unfilled ones of
            // this size are often fresh pages (the plain loop). Both must agree.
            const target = maskOffset % 2 === 0 ? Buffer.alloc(length + 40, 0xee) : Buffer.allocUnsafeSlow(length + 40);
            if (maskOffset % 2 === 1) {
              target.fill(0xee, 0, targetOffset);
              target.fill(0xee, targetOffset + length);
            }
            maskInto(source, key, target, targetOffset, maskOffset);
            const ok =
              target.subarray(targetOffset, targetOffset + length).equals(naiveMask(source, key, maskOffset)) &&
              target.subarray(0, targetOffset).equals(Buffer.alloc(targetOffset, 0xee)) &&
              target.subarray(targetOffset + length).equals(Buffer.alloc(40 - targetOffset, 0xee));
            if (!ok) mismatches.push(`length ${length} target offset ${targetOffset} mask offset ${maskOffset}`);
          }
        }
      }
      expect(mismatches).toEqual([]);
    });
  });

  describe('maskPayloadInto', () => {
    test('masks with the key stored just before the payload, at every length around each path change', () => {
      const rng = createRng(21);
      const mismatches: string[] = [];
      for (const length of [0, 1, 2, 3, 4, 5, 31, 95, 96, 97, 125, 126, 255, 256, 257, 1000, 65_536, 70_001]) {
        for (const headerSize of [6, 8, 14]) {
          const source = rng.bytes(length);
          const before = Buffer.from(source);
          const key = rng.bytes(4);
          const frame = Buffer.alloc(headerSize + length + 3, 0xee);
          key.copy(frame, headerSize - 4);
          maskPayloadInto(source, frame, headerSize);
          const ok =
            frame.subarray(headerSize, headerSize + length).equals(naiveMask(source, key, 0)) &&
            frame.subarray(headerSize - 4, headerSize).equals(key) &&
            frame.subarray(headerSize + length).equals(Buffer.alloc(3, 0xee)) &&
            source.equals(before);
          if (!ok) mismatches.push(`length ${length} header ${headerSize}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
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
