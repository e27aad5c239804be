import { describe, expect, test, vi } from 'vitest';
import { Opcode } from '../src/constants.js';
import { encodeFrame, encodeFrameBuffer } from '../src/frame-encoder.js';
import { applyMask, writeMaskKey } from '../src/mask.js';
import { hex } from './helpers/bytes.js';

// encodeFrame(opcode, payload, fin = true, rsv1 = false, mask = false).
// The mask key is random; to compare masked frames with the RFC's bytes, a
// test can pin the next key. Everything else uses the real generator.
vi.mock('../src/mask.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/mask.js')>();
  return { ...real, writeMaskKey: vi.fn(real.writeMaskKey) };
});

function pinNextMaskKey(key: Buffer): void {
  vi.mocked(writeMaskKey).mockImplementationOnce((target, offset) => {
    target.set(key, offset);
  });
}

const HELLO = Buffer.from('Hello');
const RFC_KEY = hex('37 fa 21 3d');

describe('encodeFrame: the examples of RFC 6455 §5.7', () => {
  test('encodes a single-frame unmasked text message', () => {
    expect(encodeFrameBuffer(Opcode.Text, HELLO)).toEqual(hex('81 05 48 65 6c 6c 6f'));
  });

  test('encodes a single-frame masked text message', () => {
    pinNextMaskKey(RFC_KEY);
    expect(encodeFrameBuffer(Opcode.Text, HELLO, true, false, true)).toEqual(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
  });

  test('encodes a fragmented unmasked text message', () => {
    expect(encodeFrameBuffer(Opcode.Text, Buffer.from('Hel'), false)).toEqual(hex('01 03 48 65 6c'));
    expect(encodeFrameBuffer(Opcode.Continuation, Buffer.from('lo'))).toEqual(hex('80 02 6c 6f'));
  });

  test('encodes an unmasked ping', () => {
    expect(encodeFrameBuffer(Opcode.Ping, HELLO)).toEqual(hex('89 05 48 65 6c 6c 6f'));
  });

  test('encodes a masked pong', () => {
    pinNextMaskKey(RFC_KEY);
    expect(encodeFrameBuffer(Opcode.Pong, HELLO, true, false, true)).toEqual(hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'));
  });

  test('encodes 256 bytes of binary with a 16-bit length', () => {
    const payload = Buffer.alloc(256, 0x11);
    const frame = encodeFrameBuffer(Opcode.Binary, payload);
    expect(frame.subarray(0, 4)).toEqual(hex('82 7e 01 00'));
    expect(frame.subarray(4)).toEqual(payload);
  });

  test('encodes 64 KiB of binary with a 64-bit length', () => {
    const payload = Buffer.alloc(65536, 0x22);
    const frame = encodeFrameBuffer(Opcode.Binary, payload);
    expect(frame.subarray(0, 10)).toEqual(hex('82 7f 00 00 00 00 00 01 00 00'));
    expect(frame.length).toBe(10 + 65536);
    expect(frame.subarray(10).equals(payload)).toBe(true);
  });
});

describe('encodeFrame', () => {
  test.each([
    [0, '82 00'],
    [125, '82 7d'],
    [126, '82 7e 00 7e'],
    [65535, '82 7e ff ff'],
    [65536, '82 7f 00 00 00 00 00 01 00 00'],
    [1 << 20, '82 7f 00 00 00 00 00 10 00 00'],
  ])('uses the shortest length form for %i bytes', (length, header) => {
    const frame = encodeFrameBuffer(Opcode.Binary, Buffer.alloc(length));
    expect(frame.subarray(0, hex(header).length)).toEqual(hex(header));
    expect(frame.length).toBe(hex(header).length + length);
  });

  test('puts the mask key after a 16-bit and a 64-bit length', () => {
    for (const [length, header] of [
      [300, '82 fe 01 2c'],
      [70000, '82 ff 00 00 00 00 00 01 11 70'],
    ] as const) {
      pinNextMaskKey(RFC_KEY);
      const payload = Buffer.alloc(length, 0x41);
      const frame = encodeFrameBuffer(Opcode.Binary, payload, true, false, true);
      const h = hex(header);
      expect(frame.subarray(0, h.length)).toEqual(h);
      expect(frame.subarray(h.length, h.length + 4)).toEqual(RFC_KEY);
      const body = Buffer.from(frame.subarray(h.length + 4));
      applyMask(body, RFC_KEY);
      expect(body.equals(payload)).toBe(true);
    }
  });

  test('sets RSV1 for a compressed message and clears FIN for a first fragment', () => {
    expect(encodeFrameBuffer(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), true, true)).toEqual(
      hex('c1 07 f2 48 cd c9 c9 07 00'),
    );
    expect(encodeFrameBuffer(Opcode.Text, hex('f2 48 cd'), false, true)).toEqual(hex('41 03 f2 48 cd'));
  });

  test('masks an empty payload: the header carries a key and nothing follows', () => {
    const frame = encodeFrameBuffer(Opcode.Close, Buffer.alloc(0), true, false, true);
    expect(frame.length).toBe(6);
    expect(frame.subarray(0, 2)).toEqual(hex('88 80'));
  });

  test('gives each masked frame a fresh key', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 100; i++) keys.add(encodeFrameBuffer(Opcode.Text, HELLO, true, false, true).subarray(2, 6).toString('hex'));
    expect(keys.size).toBeGreaterThan(95);
  });

  test('never alters the caller\'s payload when masking', () => {
    for (const size of [5, 300, 3000, 70000]) {
      const payload = Buffer.alloc(size, 0x61);
      encodeFrame(Opcode.Text, payload, true, false, true);
      expect(payload.equals(Buffer.alloc(size, 0x61)), `${size} bytes`).toBe(true);
    }
  });

  test('hands a large unmasked payload over as its own buffer, without copying', () => {
    const payload = Buffer.alloc(100_000, 0x62);
    const parts = encodeFrame(Opcode.Binary, payload);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toEqual(hex('82 7f 00 00 00 00 00 01 86 a0'));
    expect(parts[1]).toBe(payload);
  });

  test('wraps a large plain Uint8Array without copying it either', () => {
    const payload = new Uint8Array(5000).fill(7);
    const parts = encodeFrame(Opcode.Binary, payload.subarray(1000));
    expect(parts).toHaveLength(2);
    expect(parts[1]!.buffer).toBe(payload.buffer);
    expect(parts[1]!.byteOffset).toBe(1000);
    expect(parts[1]!.length).toBe(4000);
  });

  test('keeps an unmasked payload of any size apart from its header, uncopied, and sends an empty one as the header alone', () => {
    const small = Buffer.alloc(10);
    const parts = encodeFrame(Opcode.Text, small);
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(small);
    expect(encodeFrame(Opcode.Text, Buffer.alloc(100_000))).toHaveLength(2);
    expect(encodeFrame(Opcode.Text, Buffer.alloc(0))).toHaveLength(1);
    // Whatever the length, the bytes are the frame's.
    for (let n = 0; n < 4200; n += 97) {
      const payload = Buffer.alloc(n, n & 0xff);
      const joined = Buffer.concat(encodeFrame(Opcode.Binary, payload));
      const header = n < 126 ? 2 : 4;
      expect(joined.length, `${n} bytes`).toBe(header + n);
      expect(joined.subarray(header).equals(payload), `${n} bytes`).toBe(true);
    }
  });

  test('shares the header of consecutive unmasked frames of one size, and only of the same size and flags', () => {
    const a = Buffer.alloc(70_000, 1);
    const b = Buffer.alloc(70_000, 2);
    const [h1] = encodeFrame(Opcode.Binary, a);
    const [h2] = encodeFrame(Opcode.Binary, b);
    expect(h2).toBe(h1); // one header object for both
    expect(h1!.toString('hex')).toBe('827f0000000000011170');
    // Another length, another opcode, FIN or RSV1: a header of its own, with its own bytes.
    const [h3] = encodeFrame(Opcode.Binary, a.subarray(0, 300));
    expect(h3).not.toBe(h1);
    expect(h3!.toString('hex')).toBe('827e012c');
    const [h4] = encodeFrame(Opcode.Text, Buffer.alloc(300, 0x61));
    expect(h4).not.toBe(h3);
    expect(h4!.toString('hex')).toBe('817e012c');
    const [h5] = encodeFrame(Opcode.Text, Buffer.alloc(300, 0x61), false);
    expect(h5!.toString('hex')).toBe('017e012c');
    const [h6] = encodeFrame(Opcode.Text, Buffer.alloc(300, 0x61), true, true);
    expect(h6!.toString('hex')).toBe('c17e012c');
    // The shared headers were never written to afterwards.
    expect(h1!.toString('hex')).toBe('827f0000000000011170');
    expect(h3!.toString('hex')).toBe('827e012c');
  });

  test('masks every payload length correctly, through each of its masking paths', () => {
    const lengths = [0, 1, 3, 4, 5, 63, 64, 65, 125, 126, 255, 256, 257, 511, 512, 513, 1000, 4097, 65535, 65536, 65537, 200_003];
    const bad: number[] = [];
    for (const length of lengths) {
      const payload = Buffer.alloc(length);
      for (let i = 0; i < length; i++) payload[i] = (i * 7 + 3) & 0xff;
      const frame = encodeFrameBuffer(Opcode.Binary, payload, true, false, true);
      const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
      const key = frame.subarray(header, header + 4);
      const body = Buffer.from(frame.subarray(header + 4));
      for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i & 3]!;
      if (frame.length !== header + 4 + length || !body.equals(payload)) bad.push(length);
    }
    expect(bad).toEqual([]);
  });

  test('masks a plain Uint8Array view, not just Buffers', () => {
    const backing = new Uint8Array(3000).fill(0x5a);
    pinNextMaskKey(RFC_KEY);
    const frame = encodeFrameBuffer(Opcode.Binary, backing.subarray(1, 2001), true, false, true);
    const body = Buffer.from(frame.subarray(8));
    applyMask(body, RFC_KEY);
    expect(body.equals(Buffer.alloc(2000, 0x5a))).toBe(true);
  });

  test('encodeFrameBuffer joins a two-part frame into the same bytes', () => {
    const payload = Buffer.alloc(10_000, 0x63);
    expect(encodeFrameBuffer(Opcode.Binary, payload)).toEqual(Buffer.concat(encodeFrame(Opcode.Binary, payload)));
  });
});
