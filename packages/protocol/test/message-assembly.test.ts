import { describe, expect, test } from 'vitest';
import { MessageAssembly } from '../src/message-assembly.js';

describe('MessageAssembly', () => {
  test('hands back a single piece itself, uncopied', () => {
    const assembly = new MessageAssembly(1 << 20);
    const piece = Buffer.from('hello');
    assembly.append(piece);
    expect(assembly.retainedBytes).toBe(0);
    expect(assembly.take()).toBe(piece);
  });

  test('joins pieces in order and starts empty again after take', () => {
    const assembly = new MessageAssembly(1 << 20);
    for (const s of ['he', 'll', '', 'o']) assembly.append(Buffer.from(s));
    expect(assembly.byteLength).toBe(5);
    expect(assembly.take().toString()).toBe('hello');
    expect(assembly.byteLength).toBe(0);
    expect(assembly.take().length).toBe(0);
  });

  test('detach copies a lone piece, so the message no longer shares its memory', () => {
    const assembly = new MessageAssembly(1 << 20);
    const read = Buffer.from('abcdef');
    assembly.append(read.subarray(0, 3));
    assembly.detach();
    read.fill(0);
    assembly.append(Buffer.from('xyz'));
    expect(assembly.take().toString()).toBe('abcxyz');
  });

  test('1-byte pieces up to maxPayload cost at most maxPayload, and about twice their bytes on the way', () => {
    const maxPayload = 100_000;
    const assembly = new MessageAssembly(maxPayload);
    const byte = Buffer.from([0x61]);
    for (let i = 1; i <= maxPayload; i++) {
      assembly.append(byte);
      assembly.detach();
      expect(assembly.retainedBytes).toBeLessThanOrEqual(Math.min(maxPayload, Math.max(256, 2 * i)));
    }
    expect(assembly.take().equals(Buffer.alloc(maxPayload, 0x61))).toBe(true);
  });
});
