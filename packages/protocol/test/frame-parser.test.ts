import { describe, expect, test } from 'vitest';
import { ProtocolError, ProtocolErrorCode } from '../src/errors.js';
import { FrameParser, type FrameHeader, type FrameSink } from '../src/frame-parser.js';
import { chunkings, createRng, freshChunks, hex, randomChunks } from './helpers/bytes.js';
import { frameBytes } from './helpers/frames.js';
import { decodeFrames, expectEvents, expectProtocolError, sameEvents, type RecordedEvent } from './helpers/recorders.js';

type HeaderFields = Partial<Omit<FrameHeader, 'payloadLength'>> & { opcode: number };

/** The two events one frame produces. */
function frame(fields: HeaderFields, payload: Buffer | string): RecordedEvent[] {
  const data = Buffer.from(payload);
  return [
    {
      type: 'header',
      fin: fields.fin ?? true,
      rsv1: fields.rsv1 ?? false,
      rsv2: fields.rsv2 ?? false,
      rsv3: fields.rsv3 ?? false,
      opcode: fields.opcode,
      masked: fields.masked ?? false,
      payloadLength: data.length,
    },
    { type: 'frame', payload: data },
  ];
}

/**
 * Feeds `input` whole, byte by byte and split at every boundary, and expects
 * the same frames each time. Masked input is unmasked in place, so each
 * feeding gets its own copy.
 */
function expectFramesEveryWay(input: Buffer, expected: RecordedEvent[]): void {
  for (const { label, chunks } of chunkings(input)) {
    const result = decodeFrames(freshChunks(chunks));
    expect(result.error, label).toBeUndefined();
    expectEvents(result.events, expected, label);
  }
}

const fixtures: Array<[name: string, input: string, expected: RecordedEvent[]]> = [
  ['a single-frame unmasked text message (RFC 6455 §5.7)', '81 05 48 65 6c 6c 6f', frame({ opcode: 1 }, 'Hello')],
  [
    'a single-frame masked text message (RFC 6455 §5.7)',
    '81 85 37 fa 21 3d 7f 9f 4d 51 58',
    frame({ opcode: 1, masked: true }, 'Hello'),
  ],
  [
    'a fragmented unmasked text message (RFC 6455 §5.7)',
    '01 03 48 65 6c  80 02 6c 6f',
    [...frame({ opcode: 1, fin: false }, 'Hel'), ...frame({ opcode: 0 }, 'lo')],
  ],
  ['an unmasked ping (RFC 6455 §5.7)', '89 05 48 65 6c 6c 6f', frame({ opcode: 9 }, 'Hello')],
  ['a masked pong (RFC 6455 §5.7)', '8a 85 37 fa 21 3d 7f 9f 4d 51 58', frame({ opcode: 0xa, masked: true }, 'Hello')],
  ['an empty close frame', '88 00', frame({ opcode: 8 }, '')],
  ['an empty masked close frame', '88 80 01 02 03 04', frame({ opcode: 8, masked: true }, '')],
  ['a close frame with a code and reason', '88 05 03 e8 62 79 65', frame({ opcode: 8 }, hex('03 e8 62 79 65'))],
  [
    'reserved bits and a reserved opcode, reported as they are (policy is the sink\'s)',
    'f3 01 7a',
    frame({ opcode: 3, rsv1: true, rsv2: true, rsv3: true }, 'z'),
  ],
  [
    'several frames back to back, masked and unmasked',
    '89 00  01 83 00 00 00 00 48 65 6c  8a 00  80 82 ff ff ff ff 93 90',
    [
      ...frame({ opcode: 9 }, ''),
      ...frame({ opcode: 1, fin: false, masked: true }, 'Hel'),
      ...frame({ opcode: 0xa }, ''),
      ...frame({ opcode: 0, masked: true }, 'lo'),
    ],
  ],
];

describe('FrameParser fixtures, fed whole, byte by byte and split at every boundary', () => {
  test.each(fixtures)('parses %s', (_name, input, expected) => {
    expectFramesEveryWay(hex(input), expected);
  });

  test('parses 256 bytes of binary with a 16-bit length (RFC 6455 §5.7)', () => {
    const payload = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) payload[i] = i;
    expectFramesEveryWay(Buffer.concat([hex('82 7e 01 00'), payload]), frame({ opcode: 2 }, payload));
  });

  test('parses 64 KiB of binary with a 64-bit length (RFC 6455 §5.7)', () => {
    const payload = createRng(64).bytes(65536);
    const input = Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), payload]);
    // Unmasked input is never written to, so the feedings (65 538 of them) can share it.
    const expected = frame({ opcode: 2 }, payload);
    const failures: string[] = [];
    for (const { label, chunks } of chunkings(input)) {
      const result = decodeFrames(chunks);
      if (result.error !== undefined || !sameEvents(result.events, expected)) failures.push(label);
    }
    expect(failures).toEqual([]);
  });

  test('parses a masked 300-byte frame whose mask offset carries across pieces', () => {
    const payload = createRng(300).bytes(300);
    const key = hex('de ad be ef');
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ key[i & 3]!;
    expectFramesEveryWay(Buffer.concat([hex('82 fe 01 2c'), key, masked]), frame({ opcode: 2, masked: true }, payload));
  });

  test('reports a header with a 64-bit length before any of its payload has arrived', () => {
    const result = decodeFrames([hex('82 7f 00 00 00 01 00 00 00 05')]);
    expect(result.error).toBeUndefined();
    expect(result.events).toEqual([
      { type: 'header', fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, masked: false, payloadLength: 2 ** 32 + 5 },
    ]);
  });
});

describe('FrameParser errors', () => {
  test('refuses a 64-bit length with its most significant bit set, split at every boundary', () => {
    const input = hex('82 7f 80 00 00 00 00 00 00 05  48 65 6c 6c 6f');
    for (const { label, chunks } of chunkings(input)) {
      const result = decodeFrames(chunks);
      expectProtocolError(result.error, ProtocolErrorCode.InvalidLength, 1002, label);
      expect(result.events, label).toEqual([]);
    }
  });

  test('refuses with 1009 a 64-bit length that cannot be counted exactly (over 2^53 - 1)', () => {
    const result = decodeFrames([hex('82 7f 00 20 00 00 00 00 00 00')]);
    expectProtocolError(result.error, ProtocolErrorCode.MessageTooBig, 1009);
  });

  test('accepts the largest exactly countable 64-bit length', () => {
    const result = decodeFrames([hex('82 7f 00 1f ff ff ff ff ff ff')]);
    expect(result.error).toBeUndefined();
    expect(result.events[0]).toMatchObject({ type: 'header', payloadLength: Number.MAX_SAFE_INTEGER });
  });

  test('accepts nothing more after an error', () => {
    const sink = new ThrowingSink('header');
    const parser = new FrameParser(sink);
    expect(() => parser.push(hex('81 05 48 65'))).toThrow(ProtocolError);
    parser.push(hex('6c 6c 6f 81 00'));
    expect(sink.calls).toEqual(['header']);
    expect(parser.bufferedBytes).toBe(0);
  });

  test('stops at once when the sink refuses a payload piece', () => {
    const sink = new ThrowingSink('payload');
    const parser = new FrameParser(sink);
    expect(() => parser.push(hex('81 02 41 42 81 01 43'))).toThrow(ProtocolError);
    expect(sink.calls).toEqual(['header', 'payload']);
  });
});

describe('FrameParser flow', () => {
  test('hands over unmasked payload as views of the input, not copies', () => {
    const input = hex('82 04 01 02 03 04');
    const result = decodeFrames([input]);
    const piece = result.sink.pieces[0]!;
    expect(piece.buffer).toBe(input.buffer);
    expect(piece.byteOffset).toBe(input.byteOffset + 2);
  });

  test('delivers a payload spread over chunks piece by piece, as it arrives', () => {
    const result = decodeFrames([hex('82 06 01 02'), hex('03 04'), hex('05 06')]);
    expect(result.sink.pieces.map((p) => p.toString('hex'))).toEqual(['0102', '0304', '0506']);
  });

  test('pauses between frames and resumes where it stopped', () => {
    const seen: string[] = [];
    let parser!: FrameParser;
    const sink: FrameSink = {
      onFrameHeader: (h) => seen.push(`header ${h.opcode}`),
      onFramePayload: (p) => seen.push(`payload ${p.toString()}`),
      onFrameEnd: () => {
        seen.push('end');
        parser.pause();
      },
    };
    parser = new FrameParser(sink);
    const input = Buffer.concat([frameBytes(1, Buffer.from('one')), frameBytes(1, Buffer.from('two'))]);
    parser.push(input);
    expect(seen).toEqual(['header 1', 'payload one', 'end']);
    expect(parser.isPaused).toBe(true);
    expect(parser.bufferedBytes).toBe(5);
    parser.push(frameBytes(2, Buffer.from('three')));
    expect(seen).toHaveLength(3);
    parser.resume();
    expect(seen).toEqual(['header 1', 'payload one', 'end', 'header 1', 'payload two', 'end']);
    parser.resume();
    expect(seen.slice(6)).toEqual(['header 2', 'payload three', 'end']);
    expect(parser.bufferedBytes).toBe(0);
  });

  test('ignores empty chunks', () => {
    const result = decodeFrames([Buffer.alloc(0), hex('81'), Buffer.alloc(0), hex('01 41')]);
    expectEvents(result.events, frame({ opcode: 1 }, 'A'), 'with empty chunks');
  });
});

describe('FrameParser fuzzing', () => {
  test('parses many random frames identically under random chunking', () => {
    const rng = createRng(0xf4a3e);
    const sizes = [0, 1, 2, 3, 4, 5, 124, 125, 126, 127, 128, 255, 256, 1000, 65535, 65536, 70000];
    for (let round = 0; round < 40; round++) {
      const frames: Buffer[] = [];
      const expected: RecordedEvent[] = [];
      const count = 1 + rng.int(30);
      for (let f = 0; f < count; f++) {
        const opcode = rng.int(16);
        const fin = rng.int(2) === 0;
        const rsv1 = rng.int(4) === 0;
        const masked = rng.int(2) === 0;
        const length = rng.int(3) === 0 ? sizes[rng.int(sizes.length)]! : rng.int(200);
        const payload = rng.bytes(length);
        const encoded = frameBytes(opcode, payload, { fin, rsv1, mask: masked });
        frames.push(encoded);
        expected.push(...frame({ opcode, fin, rsv1, masked }, payload));
      }
      const input = Buffer.concat(frames);
      for (const maxPiece of [1 + rng.int(8), 1 + rng.int(100), 1 + rng.int(20_000)]) {
        const chunks = freshChunks(randomChunks(input, rng, maxPiece));
        const result = decodeFrames(chunks);
        expect(result.error).toBeUndefined();
        expectEvents(result.events, expected, `round ${round}, pieces of up to ${maxPiece} bytes`);
      }
    }
  });
});

/** A sink that refuses the frame at a chosen point, as MessageReader does. */
class ThrowingSink implements FrameSink {
  readonly calls: string[] = [];
  constructor(private readonly at: 'header' | 'payload') {}
  onFrameHeader(): void {
    this.calls.push('header');
    if (this.at === 'header') throw new ProtocolError(ProtocolErrorCode.ReservedBits, 1002, 'refused');
  }
  onFramePayload(): void {
    this.calls.push('payload');
    if (this.at === 'payload') throw new ProtocolError(ProtocolErrorCode.InvalidUtf8, 1007, 'refused');
  }
  onFrameEnd(): void {
    this.calls.push('end');
  }
}
