import { isUtf8 } from 'node:buffer';
import { describe, expect, test } from 'vitest';
import { Utf8StreamValidator, isValidUtf8 } from '../src/utf8.js';
import { createRng, hex, randomChunks } from './helpers/bytes.js';

/** Inputs this long go to Node's native check; shorter ones to the JavaScript loop. */
const NATIVE = 48;
const padding = Buffer.alloc(NATIVE, 0x61);

const valid: Array<[label: string, bytes: Buffer]> = [
  ['ASCII', Buffer.from('Hello, world')],
  ['U+0080, the first two-byte character', hex('c2 80')],
  ['U+07FF, the last two-byte character', hex('df bf')],
  ['U+0800, the first three-byte character', hex('e0 a0 80')],
  ['U+D7FF, just below the surrogates', hex('ed 9f bf')],
  ['U+E000, just above the surrogates', hex('ee 80 80')],
  ['U+FFFF', hex('ef bf bf')],
  ['U+10000, the first four-byte character', hex('f0 90 80 80')],
  ['U+10FFFF, the last code point', hex('f4 8f bf bf')],
  ['the euro sign', Buffer.from('€')],
  ['a musical symbol outside the BMP', Buffer.from('𝄞')],
  ['Greek text', Buffer.from('κόσμε')],
  ['mixed scripts', Buffer.from('añ€𝄞 日本語 🎉')],
  ['the empty string', Buffer.alloc(0)],
];

/** [label, bytes, index of the first byte that makes the input invalid, or 'end' when only the end can tell]. */
const invalid: Array<[label: string, bytes: Buffer, badAt: number | 'end']> = [
  ['an overlong two-byte NUL (C0 80)', hex('c0 80'), 0],
  ['an overlong two-byte sequence (C1 BF)', hex('c1 bf'), 0],
  ['an overlong three-byte NUL (E0 80 80)', hex('e0 80 80'), 1],
  ['an overlong three-byte U+07FF (E0 9F BF)', hex('e0 9f bf'), 1],
  ['an overlong four-byte NUL (F0 80 80 80)', hex('f0 80 80 80'), 1],
  ['an overlong four-byte U+FFFF (F0 8F BF BF)', hex('f0 8f bf bf'), 1],
  ['a high surrogate (ED A0 80)', hex('ed a0 80'), 1],
  ['a low surrogate (ED BF BF)', hex('ed bf bf'), 1],
  ['a code point above U+10FFFF (F4 90 80 80)', hex('f4 90 80 80'), 1],
  ['the byte F5', hex('f5 80 80 80'), 0],
  ['the byte FE', hex('fe'), 0],
  ['the byte FF', hex('ff'), 0],
  ['a lone continuation byte', hex('80'), 0],
  ['ASCII then a lone continuation byte', hex('61 80'), 1],
  ['a two-byte sequence cut by ASCII', hex('c3 28'), 1],
  ['a three-byte sequence cut by ASCII', hex('e2 82 28'), 2],
  ['a four-byte sequence cut by ASCII', hex('f0 9d 84 28'), 3],
  ['a sequence with one continuation byte too many', hex('c3 a9 a9'), 2],
  ['a truncated two-byte sequence', hex('c3'), 'end'],
  ['a truncated three-byte sequence', hex('e2 82'), 'end'],
  ['a truncated four-byte sequence', hex('f0 9d 84'), 'end'],
  ['a lone four-byte lead', hex('f0'), 'end'],
  ['ASCII then a truncated sequence', hex('61 62 e2'), 'end'],
];

function streamValid(pieces: Buffer[]): boolean {
  const v = new Utf8StreamValidator();
  for (const p of pieces) if (!v.write(p)) return false;
  return v.end();
}

describe('isValidUtf8', () => {
  test.each(valid)('accepts %s', (_label, bytes) => {
    expect(isValidUtf8(bytes)).toBe(true);
  });

  test.each(valid)('accepts %s in a long input that takes the native path', (_label, bytes) => {
    expect(isValidUtf8(Buffer.concat([padding, bytes, padding]))).toBe(true);
  });

  test.each(invalid)('rejects %s', (_label, bytes) => {
    expect(isValidUtf8(bytes)).toBe(false);
  });

  test.each(invalid)('rejects %s in a long input that takes the native path', (_label, bytes) => {
    expect(isValidUtf8(Buffer.concat([padding, bytes]))).toBe(false);
    expect(isValidUtf8(Buffer.concat([padding, bytes, padding]))).toBe(false);
  });

  test('agrees with buffer.isUtf8 on random byte strings', () => {
    const rng = createRng(0x0cf8);
    const disagreements: string[] = [];
    let validSeen = 0;
    for (let n = 0; n < 20_000; n++) {
      const bytes = randomUtf8ish(rng, rng.int(2) === 0 ? rng.int(NATIVE + 8) : rng.int(300));
      if (isUtf8(bytes)) validSeen++;
      if (isValidUtf8(bytes) !== isUtf8(bytes)) disagreements.push(bytes.toString('hex'));
    }
    expect(disagreements).toEqual([]);
    // The generator must exercise both answers for the comparison to mean anything.
    expect(validSeen).toBeGreaterThan(2_000);
    expect(validSeen).toBeLessThan(18_000);
  });
});

describe('Utf8StreamValidator', () => {
  test.each(valid)('accepts %s split at every byte', (_label, bytes) => {
    expect(streamValid([bytes])).toBe(true);
    for (let i = 0; i <= bytes.length; i++) {
      expect(streamValid([bytes.subarray(0, i), bytes.subarray(i)]), `split at ${i}`).toBe(true);
    }
    expect(streamValid([...bytes].map((b) => Buffer.from([b])))).toBe(true);
  });

  test('accepts every valid sample concatenated, split into three pieces at every pair of boundaries', () => {
    const all = Buffer.concat(valid.map(([, b]) => b));
    for (let i = 0; i <= all.length; i++) {
      for (let j = i; j <= all.length; j++) {
        const pieces = [all.subarray(0, i), all.subarray(i, j), all.subarray(j)];
        expect(streamValid(pieces), `split at ${i} and ${j}`).toBe(true);
      }
    }
  });

  test.each(invalid)('rejects %s on the first byte that cannot be valid, fed byte by byte', (_label, bytes, badAt) => {
    const v = new Utf8StreamValidator();
    for (let i = 0; i < bytes.length; i++) {
      const ok = v.write(bytes.subarray(i, i + 1));
      expect(ok, `byte ${i}`).toBe(i !== badAt);
      if (!ok) return;
    }
    expect(badAt).toBe('end');
    expect(v.end()).toBe(false);
  });

  test.each(invalid)('rejects %s when it arrives after a long valid piece', (_label, bytes, badAt) => {
    const v = new Utf8StreamValidator();
    expect(v.write(Buffer.concat([padding, Buffer.from('€')]))).toBe(true);
    const ok = v.write(bytes);
    if (badAt === 'end') {
      expect(ok).toBe(true);
      expect(v.end()).toBe(false);
    } else {
      expect(ok).toBe(false);
    }
  });

  test.each(invalid)('rejects %s split at every byte', (_label, bytes) => {
    for (let i = 0; i <= bytes.length; i++) {
      expect(streamValid([bytes.subarray(0, i), bytes.subarray(i)]), `split at ${i}`).toBe(false);
    }
  });

  test('fails on a bad continuation byte while a sequence from the previous piece is still open', () => {
    const v = new Utf8StreamValidator();
    expect(v.write(hex('61 f0 9d'))).toBe(true);
    expect(v.write(hex('41'))).toBe(false);
  });

  test('starts afresh after end(), whatever the previous message was', () => {
    const v = new Utf8StreamValidator();
    expect(v.write(hex('e2 82'))).toBe(true);
    expect(v.end()).toBe(false);
    expect(v.write(Buffer.from('€'))).toBe(true);
    expect(v.end()).toBe(true);
    expect(v.write(hex('f0 9d'))).toBe(true);
    v.reset();
    expect(v.write(Buffer.from('ok'))).toBe(true);
    expect(v.end()).toBe(true);
  });

  test('agrees with buffer.isUtf8 on random byte strings fed in random pieces', () => {
    const rng = createRng(0x5eed);
    const disagreements: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const bytes = randomUtf8ish(rng, rng.int(400));
      const pieces = randomChunks(bytes, rng, rng.int(2) === 0 ? 4 : 120);
      if (streamValid(pieces) !== isUtf8(bytes)) disagreements.push(pieces.map((p) => p.toString('hex')).join(' | '));
    }
    expect(disagreements).toEqual([]);
  });

  test('accepts random valid text fed in random pieces', () => {
    const rng = createRng(42);
    const rejected: string[] = [];
    for (let n = 0; n < 5_000; n++) {
      const bytes = Buffer.from(randomText(rng, rng.int(200)));
      const pieces = randomChunks(bytes, rng, 1 + rng.int(80));
      if (!streamValid(pieces)) rejected.push(pieces.map((p) => p.toString('hex')).join(' | '));
    }
    expect(rejected).toEqual([]);
  });
});

/** A random string of code points from every encoded length (no lone surrogates). */
function randomText(rng: ReturnType<typeof createRng>, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const kind = rng.int(4);
    let cp: number;
    if (kind === 0) cp = rng.int(0x80);
    else if (kind === 1) cp = 0x80 + rng.int(0x800 - 0x80);
    else if (kind === 2) {
      cp = 0x800 + rng.int(0x10000 - 0x800);
      if (cp >= 0xd800 && cp <= 0xdfff) cp -= 0x800;
    } else cp = 0x10000 + rng.int(0x110000 - 0x10000);
    out += String.fromCodePoint(cp);
  }
  return out;
}

/**
 * Random bytes that are often, but not always, valid UTF-8: valid characters
 * mixed with stray continuation bytes, bad leads and boundary bytes.
 */
function randomUtf8ish(rng: ReturnType<typeof createRng>, length: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const corrupt = rng.int(3) !== 0;
  while (size < length) {
    const roll = rng.int(20);
    let part: Buffer;
    if (!corrupt || roll < 14) part = Buffer.from(randomText(rng, 1));
    else if (roll < 16) part = Buffer.from([0x80 + rng.int(0x40)]);
    else if (roll < 18) part = Buffer.from([0xc0 + rng.int(0x40)]);
    else part = Buffer.from([[0xc0, 0xc1, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff][rng.int(8)]!, 0x80 + rng.int(0x40)]);
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts);
}
