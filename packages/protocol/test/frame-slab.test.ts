import { describe, expect, test } from 'vitest';
import { allocFrame, SLAB_MAX_FRAME } from '../src/frame-slab.js';
import { Opcode } from '../src/constants.js';
import { encodeFrame } from '../src/frame-encoder.js';
import { applyMask } from '../src/mask.js';

describe('allocFrame', () => {
  test('hands out real Buffers: Buffer.isBuffer, instanceof and Buffer methods all work', () => {
    const frame = allocFrame(12);
    expect(frame).toHaveLength(12);
    expect(Buffer.isBuffer(frame)).toBe(true);
    expect(frame instanceof Buffer).toBe(true);
    expect(frame.constructor).toBe(Buffer);
    frame.write('hello world!', 'latin1');
    expect(frame.toString()).toBe('hello world!');
    expect(frame.toString('hex')).toBe(Buffer.from('hello world!').toString('hex'));
    expect(frame.equals(Buffer.from('hello world!'))).toBe(true);
    expect(frame.readUInt16BE(0)).toBe(0x6865);
    expect(Buffer.isBuffer(frame.subarray(6))).toBe(true);
    expect(frame.subarray(6).toString()).toBe('world!');
    expect(Buffer.concat([frame, Buffer.from('?')]).toString()).toBe('hello world!?');
  });

  test('never lets two frames share bytes, across many slabs, and starts each 8-byte aligned', () => {
    const frames: Buffer[] = [];
    // ~3 MB of frames of every size up to the limit: dozens of slabs, each filled to its end.
    for (let i = 0; i < 1500; i++) {
      const size = (i * 2654435761) % (SLAB_MAX_FRAME + 1);
      const frame = allocFrame(size);
      expect(frame.length).toBe(size);
      expect(frame.byteOffset % 8).toBe(0);
      frame.fill(i & 0xff);
      frames.push(frame);
    }
    for (let i = 0; i < frames.length; i++) {
      expect(frames[i]!.every((b) => b === (i & 0xff)), `frame ${i} was overwritten`).toBe(true);
    }
    // And they did come from shared slabs of 64 KiB, not one allocation each.
    const slabs = new Set(frames.map((f) => f.buffer));
    expect(slabs.size).toBeGreaterThan(20);
    expect(slabs.size).toBeLessThan(frames.length / 10);
    for (const s of slabs) expect(s.byteLength).toBe(64 * 1024);
  });

  test('gives frames above the limit memory of their own', () => {
    const small = allocFrame(100);
    const large = allocFrame(SLAB_MAX_FRAME + 1);
    expect(Buffer.isBuffer(large)).toBe(true);
    expect(large).toHaveLength(SLAB_MAX_FRAME + 1);
    expect(large.buffer).not.toBe(small.buffer);
    const after = allocFrame(100);
    // The large frame did not use up the slab either.
    expect(after.buffer).toBe(small.buffer);
  });

  test('encodeFrame builds masked frames in slabs, each intact after the next is built', () => {
    const payloads = [0, 1, 5, 125, 126, 1000, SLAB_MAX_FRAME - 8, SLAB_MAX_FRAME].map((n, i) => Buffer.alloc(n, 0x41 + i));
    const frames = payloads.map((p) => encodeFrame(Opcode.Binary, p, true, false, true)[0]!);
    frames.forEach((frame, i) => {
      const payload = payloads[i]!;
      const headerSize = (payload.length < 126 ? 2 : 4) + 4;
      expect(frame.length).toBe(headerSize + payload.length);
      const unmasked = Buffer.from(frame.subarray(headerSize));
      applyMask(unmasked, frame.subarray(headerSize - 4, headerSize));
      expect(unmasked.equals(payload), `${payload.length} bytes`).toBe(true);
    });
  });
});
