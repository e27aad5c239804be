import { describe, expect, test } from 'vitest';
import { Opcode } from '../src/constants.js';
import { ProtocolErrorCode } from '../src/errors.js';
import { FrameParser } from '../src/frame-parser.js';
import { MessageReader, type MessageReaderOptions } from '../src/message-reader.js';
import { chunkings, createRng, freshChunks, hex, randomChunks } from './helpers/bytes.js';
import { frameBytes } from './helpers/frames.js';
import {
  RecordingMessageSink,
  binary,
  close,
  compressed,
  decodeMessages,
  expectEvents,
  expectProtocolError,
  ping,
  pong,
  sameEvents,
  text,
  type RecordedEvent,
} from './helpers/recorders.js';

const CLIENT: MessageReaderOptions = { role: 'client', maxPayload: 1 << 20, compression: false };
const SERVER: MessageReaderOptions = { role: 'server', maxPayload: 1 << 20, compression: false };
const CLIENT_DEFLATE: MessageReaderOptions = { ...CLIENT, compression: true };

const RFC_KEY = '37 fa 21 3d';

/**
 * The masked form of unmasked frames written in hex (one or more, back to
 * back), with a fixed key: server-role fixtures stay readable and exact.
 */
function masked(unmaskedHex: string, keyHex = RFC_KEY): Buffer {
  const input = hex(unmaskedHex);
  const key = hex(keyHex);
  const out: Buffer[] = [];
  let p = 0;
  while (p < input.length) {
    const code = input[p + 1]! & 0x7f;
    const extra = code === 126 ? 2 : code === 127 ? 8 : 0;
    const length = code === 126 ? input.readUInt16BE(p + 2) : code === 127 ? Number(input.readBigUInt64BE(p + 2)) : code;
    const header = Buffer.from(input.subarray(p, p + 2 + extra));
    header[1] = header[1]! | 0x80;
    const payload = Buffer.from(input.subarray(p + 2 + extra, p + 2 + extra + length));
    for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
    out.push(header, key, payload);
    p += 2 + extra + length;
  }
  return Buffer.concat(out);
}

/** Feeds `input` whole, byte by byte and split at every boundary; expects the same messages each time. */
function expectMessagesEveryWay(input: Buffer, options: MessageReaderOptions, expected: RecordedEvent[]): void {
  const copy = options.role === 'server'; // masked input is unmasked in place
  const failures: string[] = [];
  let firstFailure: { label: string; events: RecordedEvent[]; error: unknown } | undefined;
  for (const { label, chunks } of chunkings(input)) {
    const result = decodeMessages(copy ? freshChunks(chunks) : chunks, options);
    if (result.error !== undefined || !sameEvents(result.events, expected)) {
      failures.push(label);
      firstFailure ??= { label, events: result.events, error: result.error };
    }
  }
  if (firstFailure) {
    expect(firstFailure.error, firstFailure.label).toBeUndefined();
    expectEvents(firstFailure.events, expected, firstFailure.label);
  }
  expect(failures).toEqual([]);
}

/**
 * Feeds `input` every way and expects the same ProtocolError each time, with
 * the events before it; returns the results for further checks.
 */
function expectErrorEveryWay(
  input: Buffer,
  options: MessageReaderOptions,
  code: string,
  closeCode: number,
  before: RecordedEvent[] = [],
): Array<{ label: string; payloadBytes: number; errorAt: number; chunks: number }> {
  const copy = options.role === 'server';
  const out = [];
  for (const { label, chunks } of chunkings(input)) {
    const fed = copy ? freshChunks(chunks) : chunks;
    const result = decodeMessages(fed, options);
    expectProtocolError(result.error, code, closeCode, label);
    expectEvents(result.events, before, label);
    out.push({ label, payloadBytes: result.payloadBytes, errorAt: result.errorAt, chunks: fed.length });
  }
  return out;
}

const validFixtures: Array<[name: string, options: MessageReaderOptions, input: () => Buffer, expected: RecordedEvent[]]> = [
  ['a single-frame unmasked text message (RFC 6455 §5.7)', CLIENT, () => hex('81 05 48 65 6c 6c 6f'), [text('Hello')]],
  ['a single-frame masked text message (RFC 6455 §5.7)', SERVER, () => hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), [text('Hello')]],
  ['a fragmented unmasked text message (RFC 6455 §5.7)', CLIENT, () => hex('01 03 48 65 6c  80 02 6c 6f'), [text('Hello')]],
  ['the same fragmented message, masked', SERVER, () => masked('01 03 48 65 6c  80 02 6c 6f'), [text('Hello')]],
  ['an unmasked ping (RFC 6455 §5.7)', CLIENT, () => hex('89 05 48 65 6c 6c 6f'), [ping('Hello')]],
  ['a masked pong (RFC 6455 §5.7)', SERVER, () => hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'), [pong('Hello')]],
  [
    'a ping between the fragments of a message, delivered before the message',
    CLIENT,
    () => hex('01 03 48 65 6c  89 02 68 69  80 02 6c 6f'),
    [ping('hi'), text('Hello')],
  ],
  [
    'a masked pong between masked fragments',
    SERVER,
    () => masked('01 03 48 65 6c  8a 00  00 00  80 02 6c 6f'),
    [pong(''), text('Hello')],
  ],
  ['an empty text message', CLIENT, () => hex('81 00'), [text('')]],
  ['an empty message sent as three empty fragments', CLIENT, () => hex('01 00  00 00  80 00'), [text('')]],
  ['a three-byte character split over three fragments', CLIENT, () => hex('01 01 e2  00 01 82  80 01 ac'), [text('€')]],
  ['a four-byte character split over two masked fragments', SERVER, () => masked('01 02 f0 9d  80 02 84 9e'), [text('𝄞')]],
  [
    'a fragmented binary message whose bytes are not UTF-8 (binary is never checked)',
    CLIENT,
    () => hex('02 02 ff fe  80 01 c0'),
    [binary(hex('ff fe c0'))],
  ],
  ['an empty close frame, reported as 1005', CLIENT, () => hex('88 00'), [close(1005)]],
  ['a close frame with code 1000 and reason "bye"', CLIENT, () => hex('88 05 03 e8 62 79 65'), [close(1000, 'bye')]],
  ['a masked close frame with code 4999 and a UTF-8 reason', SERVER, () => masked('88 05 13 87 e2 82 ac'), [close(4999, '€')]],
  [
    'messages, pings and pongs back to back',
    CLIENT,
    () => hex('81 01 61  89 00  82 02 00 01  8a 01 7a  01 01 62  80 01 63'),
    [text('a'), ping(''), binary(hex('00 01')), pong('z'), text('bc')],
  ],
  [
    'a compressed text message (RFC 7692 §7.2.3.1), passed on still compressed',
    CLIENT_DEFLATE,
    () => hex('c1 07 f2 48 cd c9 c9 07 00'),
    [compressed(hex('f2 48 cd c9 c9 07 00'))],
  ],
  [
    'a compressed message in two fragments (RFC 7692 §7.2.3.1)',
    CLIENT_DEFLATE,
    () => hex('41 03 f2 48 cd  80 04 c9 c9 07 00'),
    [compressed(hex('f2 48 cd c9 c9 07 00'))],
  ],
  [
    'two compressed messages sharing a window (RFC 7692 §7.2.3.2)',
    CLIENT_DEFLATE,
    () => hex('c1 07 f2 48 cd c9 c9 07 00  c1 05 f2 00 11 00 00'),
    [compressed(hex('f2 48 cd c9 c9 07 00')), compressed(hex('f2 00 11 00 00'))],
  ],
  [
    'an uncompressed message when compression was negotiated',
    CLIENT_DEFLATE,
    () => hex('81 05 48 65 6c 6c 6f'),
    [text('Hello')],
  ],
  [
    'a compressed binary message',
    CLIENT_DEFLATE,
    () => hex('c2 03 01 02 03'),
    [compressed(hex('01 02 03'), true)],
  ],
  [
    'a message of exactly maxPayload bytes',
    { ...CLIENT, maxPayload: 10 },
    () => hex('02 05 00 01 02 03 04  80 05 05 06 07 08 09'),
    [binary(hex('00 01 02 03 04 05 06 07 08 09'))],
  ],
];

const sequential256 = (() => {
  const b = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) b[i] = i;
  return b;
})();

describe('MessageReader fixtures, fed whole, byte by byte and split at every boundary', () => {
  test.each(validFixtures)('reads %s', (_name, options, input, expected) => {
    expectMessagesEveryWay(input(), options, expected);
  });

  test('reads 256 bytes of binary with a 16-bit length (RFC 6455 §5.7)', () => {
    expectMessagesEveryWay(Buffer.concat([hex('82 7e 01 00'), sequential256]), CLIENT, [binary(sequential256)]);
  });

  test('reads 64 KiB of binary with a 64-bit length (RFC 6455 §5.7)', () => {
    const payload = createRng(65536).bytes(65536);
    expectMessagesEveryWay(Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), payload]), CLIENT, [binary(payload)]);
  });

  test('reads a masked 300-byte text message', () => {
    const body = Buffer.from('ü€𝄞'.repeat(30));
    const input = Buffer.concat([hex('81 7e'), Buffer.from([body.length >> 8, body.length & 0xff]), body]);
    expectMessagesEveryWay(masked(input.toString('hex')), SERVER, [text(body.toString())]);
  });
});

describe('MessageReader refuses what RFC 6455 forbids, however the input is split', () => {
  test('fails an unmasked frame from a client (server role) with 1002', () => {
    expectErrorEveryWay(hex('81 05 48 65 6c 6c 6f'), SERVER, ProtocolErrorCode.UnmaskedFrame, 1002);
  });

  test('fails a masked frame from a server (client role) with 1002', () => {
    expectErrorEveryWay(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), CLIENT, ProtocolErrorCode.MaskedFrame, 1002);
  });

  test.each([
    ['RSV1', 'c1 05 48 65 6c 6c 6f'],
    ['RSV2', 'a1 05 48 65 6c 6c 6f'],
    ['RSV3', '91 05 48 65 6c 6c 6f'],
    ['RSV1 on a ping', 'c9 00'],
  ])('fails a frame with %s set and no extension with 1002', (_bit, input) => {
    expectErrorEveryWay(hex(input), CLIENT, ProtocolErrorCode.ReservedBits, 1002);
  });

  test.each([
    ['RSV2 with permessage-deflate', 'e1 01 00'],
    ['RSV3 with permessage-deflate', 'd1 01 00'],
    ['RSV1 on a control frame with permessage-deflate', 'c9 00'],
  ])('fails a frame with %s with 1002', (_what, input) => {
    expectErrorEveryWay(hex(input), CLIENT_DEFLATE, ProtocolErrorCode.ReservedBits, 1002);
  });

  test('fails RSV1 on a continuation frame with 1002 (RFC 7692 §6: only the first frame carries it)', () => {
    expectErrorEveryWay(hex('41 01 f2  c0 01 00'), CLIENT_DEFLATE, ProtocolErrorCode.ReservedBits, 1002);
  });

  test.each([0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf])('fails reserved opcode 0x%s with 1002', (opcode) => {
    expectErrorEveryWay(Buffer.from([0x80 | opcode, 0x00]), CLIENT, ProtocolErrorCode.ReservedOpcode, 1002);
    expectErrorEveryWay(Buffer.from([0x80 | opcode, 0x81, 1, 2, 3, 4, 5]), SERVER, ProtocolErrorCode.ReservedOpcode, 1002);
  });

  test('fails a reserved opcode inside a fragmented message with 1002', () => {
    expectErrorEveryWay(hex('01 01 61  83 01 62'), CLIENT, ProtocolErrorCode.ReservedOpcode, 1002);
  });

  test.each([
    ['ping', '89 7e 00 7e'],
    ['pong', '8a 7e 00 7e'],
    ['close', '88 7e 00 7e'],
    ['ping with a 64-bit length', '89 7f 00 00 00 00 00 00 00 7e'],
  ])('fails a %s of 126 bytes with 1002, from the header alone', (_what, header) => {
    const input = Buffer.concat([hex(header), Buffer.alloc(126, 0x61)]);
    for (const r of expectErrorEveryWay(input, CLIENT, ProtocolErrorCode.ControlTooLong, 1002)) {
      expect(r.payloadBytes, r.label).toBe(0);
    }
  });

  test('reads a ping of exactly 125 bytes', () => {
    const payload = Buffer.alloc(125, 0x70);
    expectMessagesEveryWay(Buffer.concat([hex('89 7d'), payload]), CLIENT, [ping(payload)]);
  });

  test.each([
    ['ping', '09 00'],
    ['pong', '0a 00'],
    ['close', '08 02 03 e8'],
  ])('fails a fragmented %s with 1002', (_what, input) => {
    expectErrorEveryWay(hex(input), CLIENT, ProtocolErrorCode.ControlFragmented, 1002);
  });

  test.each([
    ['a final continuation', '80 02 6c 6f'],
    ['a non-final continuation', '00 02 6c 6f'],
    ['a continuation after a finished message', '81 01 61  80 01 62'],
  ])('fails %s with no message to continue with 1002', (_what, input) => {
    const before = input.startsWith('81') ? [text('a')] : [];
    expectErrorEveryWay(hex(input), CLIENT, ProtocolErrorCode.UnexpectedContinuation, 1002, before);
  });

  test.each([
    ['a text frame', '01 03 48 65 6c  81 02 6c 6f'],
    ['a binary frame', '01 03 48 65 6c  82 02 6c 6f'],
    ['a text frame after a ping', '02 01 00  89 00  01 01 61'],
  ])('fails %s that starts a new message inside a fragmented one with 1002', (what, input) => {
    const before = what.includes('ping') ? [ping('')] : [];
    expectErrorEveryWay(hex(input), CLIENT, ProtocolErrorCode.ExpectedContinuation, 1002, before);
  });

  test('fails a masked new message inside a fragmented one with 1002', () => {
    expectErrorEveryWay(masked('01 03 48 65 6c  81 02 6c 6f'), SERVER, ProtocolErrorCode.ExpectedContinuation, 1002);
  });

  test('fails a 64-bit length with its top bit set with 1002', () => {
    expectErrorEveryWay(hex('82 7f 80 00 00 00 00 00 00 01 00'), CLIENT, ProtocolErrorCode.InvalidLength, 1002);
  });
});

describe('MessageReader close frames', () => {
  test('fails a close payload of 1 byte with 1002', () => {
    expectErrorEveryWay(hex('88 01 03'), CLIENT, ProtocolErrorCode.InvalidClosePayload, 1002);
    expectErrorEveryWay(masked('88 01 03'), SERVER, ProtocolErrorCode.InvalidClosePayload, 1002);
  });

  test.each([0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535])(
    'fails close code %i with 1002',
    (code) => {
      const input = Buffer.from([0x88, 0x02, code >> 8, code & 0xff]);
      expectErrorEveryWay(input, CLIENT, ProtocolErrorCode.InvalidCloseCode, 1002);
    },
  );

  test.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])(
    'accepts close code %i',
    (code) => {
      const input = Buffer.from([0x88, 0x04, code >> 8, code & 0xff, 0x6f, 0x6b]);
      expectMessagesEveryWay(input, CLIENT, [close(code, 'ok')]);
    },
  );

  test.each([
    ['an overlong sequence', '88 04 03 e8 c0 80'],
    ['a surrogate', '88 05 03 e8 ed a0 80'],
    ['a truncated sequence', '88 04 03 e8 61 e2'],
  ])('fails a close reason with %s with 1007', (_what, input) => {
    expectErrorEveryWay(hex(input), CLIENT, ProtocolErrorCode.InvalidUtf8, 1007);
  });
});

describe('MessageReader text validation', () => {
  test.each([
    ['a single frame', '81 02 c0 80', []],
    ['a single frame ending inside a character', '81 03 61 62 e2', []],
    ['a fragmented message ending inside a character', '01 01 61  80 02 62 e2', []],
    ['a surrogate spread over fragments', '01 01 ed  00 01 a0  80 01 80', []],
    ['the second of two messages', '81 01 61  81 01 ff', [text('a')]],
  ] as Array<[string, string, RecordedEvent[]]>)('fails invalid UTF-8 in %s with 1007', (_what, input, before) => {
    expectErrorEveryWay(hex(input), CLIENT, ProtocolErrorCode.InvalidUtf8, 1007, before);
  });

  test('fails a masked text message with an invalid byte with 1007', () => {
    expectErrorEveryWay(masked('81 06 61 62 63 ff 64 65'), SERVER, ProtocolErrorCode.InvalidUtf8, 1007);
  });

  test('fails fast: a fragment with an invalid byte throws when it arrives, before the message ends', () => {
    const sink = new RecordingMessageSink();
    const parser = new FrameParser(new MessageReader(CLIENT, sink));
    parser.push(hex('01 03 48 65 6c')); // "Hel", not final
    expect(() => parser.push(hex('00 02 6c ff'))).toThrow(
      expect.objectContaining({ code: ProtocolErrorCode.InvalidUtf8, closeCode: 1007 }),
    );
    expect(sink.events).toEqual([]);
  });

  test('fails fast: a character made impossible across a fragment boundary throws at that fragment', () => {
    const parser = new FrameParser(new MessageReader(CLIENT, new RecordingMessageSink()));
    parser.push(hex('01 01 e0')); // E0 needs a continuation of A0–BF
    expect(() => parser.push(hex('00 01 80'))).toThrow(expect.objectContaining({ closeCode: 1007 }));
  });

  test('fails fast: the first bytes of a fragment throw before the rest of that fragment arrives', () => {
    const parser = new FrameParser(new MessageReader(CLIENT, new RecordingMessageSink()));
    parser.push(hex('01 03 48 65 6c'));
    // A 10-byte fragment whose second byte is invalid; only 3 of its bytes have come.
    expect(() => parser.push(hex('00 0a 61 ff 62'))).toThrow(expect.objectContaining({ closeCode: 1007 }));
  });

  test('fails fast: a single-frame message split across reads throws on the read with the bad byte', () => {
    const parser = new FrameParser(new MessageReader(CLIENT, new RecordingMessageSink()));
    parser.push(hex('81 0a 61 62')); // a 10-byte text frame, 2 bytes so far
    expect(() => parser.push(hex('63 c0'))).toThrow(expect.objectContaining({ code: ProtocolErrorCode.InvalidUtf8 }));
  });

  test('fails fast: a masked single-frame message split across reads throws on the read with the bad byte', () => {
    const frame = masked(`81 0a 61 62 63 ff ${'64 '.repeat(6)}`);
    const parser = new FrameParser(new MessageReader(SERVER, new RecordingMessageSink()));
    parser.push(frame.subarray(0, 8)); // header, key and 2 payload bytes
    expect(() => parser.push(frame.subarray(8, 10))).toThrow(expect.objectContaining({ closeCode: 1007 }));
  });

  test('fails fast on the very first piece of a split single frame when it is already invalid', () => {
    const parser = new FrameParser(new MessageReader(CLIENT, new RecordingMessageSink()));
    expect(() => parser.push(hex('81 0a ff'))).toThrow(expect.objectContaining({ closeCode: 1007 }));
  });

  test('does not check compressed text before it is inflated', () => {
    expectMessagesEveryWay(hex('c1 02 ff ff'), CLIENT_DEFLATE, [compressed(hex('ff ff'))]);
  });
});

describe('MessageReader size limit', () => {
  const LIMITED = { ...CLIENT, maxPayload: 10 };

  test('fails a frame over maxPayload with 1009 from its header, before any payload is passed on', () => {
    const input = Buffer.concat([hex('82 0b'), Buffer.alloc(11)]);
    for (const r of expectErrorEveryWay(input, LIMITED, ProtocolErrorCode.MessageTooBig, 1009)) {
      expect(r.payloadBytes, r.label).toBe(0);
    }
  });

  test('throws at the push that completes the header, with no payload fed yet', () => {
    const sink = new RecordingMessageSink();
    let pieces = 0;
    const reader = new MessageReader(LIMITED, sink);
    const parser = new FrameParser({
      onFrameHeader: (h) => reader.onFrameHeader(h),
      onFramePayload: (p) => {
        pieces++;
        reader.onFramePayload(p);
      },
      onFrameEnd: () => reader.onFrameEnd(),
    });
    expect(() => parser.push(hex('82 7f 00 00 00 00 10 00 00 00'))).toThrow(
      expect.objectContaining({ code: ProtocolErrorCode.MessageTooBig, closeCode: 1009 }),
    );
    expect(pieces).toBe(0);
  });

  test('fails a fragmented message once its fragments together pass maxPayload, at the header of the fragment that does', () => {
    const input = hex('02 06 00 01 02 03 04 05  80 06 06 07 08 09 0a 0b');
    for (const r of expectErrorEveryWay(input, LIMITED, ProtocolErrorCode.MessageTooBig, 1009)) {
      // Only the first fragment's 6 bytes were passed on.
      expect(r.payloadBytes, r.label).toBe(6);
    }
  });

  test('applies maxPayload to the compressed size; inflation is checked later', () => {
    expectMessagesEveryWay(hex('c1 07 f2 48 cd c9 c9 07 00'), { ...CLIENT_DEFLATE, maxPayload: 7 }, [
      compressed(hex('f2 48 cd c9 c9 07 00')),
    ]);
    expectErrorEveryWay(hex('c1 07 f2 48 cd c9 c9 07 00'), { ...CLIENT_DEFLATE, maxPayload: 6 }, ProtocolErrorCode.MessageTooBig, 1009);
  });

  test('does not count control frames towards a message', () => {
    expectMessagesEveryWay(hex('02 05 00 01 02 03 04  89 05 61 61 61 61 61  80 05 05 06 07 08 09'), LIMITED, [
      ping('aaaaa'),
      binary(hex('00 01 02 03 04 05 06 07 08 09')),
    ]);
  });
});

describe('MessageReader partial messages', () => {
  // Issue #24.7: unfinished messages of 1-byte fragments held 121 MB, each fragment
  // a view that kept its whole read alive. A read overwritten after it was parsed
  // shows whether the message still points into it.
  for (const [kind, opcode] of [['binary', Opcode.Binary], ['text', Opcode.Text]] as const) {
    test(`a ${kind} message waiting for its next fragment keeps no view into the read it came in`, () => {
      const sink = new RecordingMessageSink();
      const parser = new FrameParser(new MessageReader(CLIENT, sink));
      const read = frameBytes(opcode, 'abc', { fin: false });
      parser.push(read);
      read.fill(0x78);
      parser.push(frameBytes(Opcode.Continuation, 'def'));
      expect(sink.events).toEqual([opcode === Opcode.Binary ? binary(Buffer.from('abcdef')) : text('abcdef')]);
    });
  }

  test('a message in one frame is handed on as a view into its read, uncopied', () => {
    const sink = new RecordingMessageSink();
    const parser = new FrameParser(new MessageReader(CLIENT, sink));
    const read = frameBytes(Opcode.Binary, 'abc');
    parser.push(read);
    const message = sink.events[0] as { data: Buffer };
    expect(message.data.buffer).toBe(read.buffer);
  });
});

describe('MessageReader fuzzing', () => {
  for (const role of ['server', 'client'] as const) {
    test(`reads many random messages identically under random chunking (${role} role)`, () => {
      const rng = createRng(role === 'server' ? 0xabc : 0xdef);
      for (let round = 0; round < 30; round++) {
        const compression = rng.int(3) === 0;
        const options: MessageReaderOptions = { role, maxPayload: 1 << 20, compression };
        const { input, expected } = randomConversation(rng, role === 'server', compression);
        for (const maxPiece of [1 + rng.int(6), 1 + rng.int(300), 1 + rng.int(50_000)]) {
          const chunks = freshChunks(randomChunks(input, rng, maxPiece));
          const result = decodeMessages(chunks, options);
          expect(result.error, `round ${round}`).toBeUndefined();
          expectEvents(result.events, expected, `round ${round}, pieces of up to ${maxPiece} bytes`);
        }
      }
    });
  }
});

/** Random messages, randomly fragmented, with control frames between fragments. */
function randomConversation(
  rng: ReturnType<typeof createRng>,
  mask: boolean,
  compression: boolean,
): { input: Buffer; expected: RecordedEvent[] } {
  const frames: Buffer[] = [];
  const expected: RecordedEvent[] = [];
  const messages = 1 + rng.int(12);
  for (let m = 0; m < messages; m++) {
    const isBinary = rng.int(2) === 0;
    const isCompressed = compression && rng.int(2) === 0;
    const size = rng.int(5) === 0 ? rng.int(100_000) : rng.int(300);
    const data = isBinary || isCompressed ? rng.bytes(size) : Buffer.from(randomText(rng, size));
    const fragments = 1 + rng.int(5);
    const cuts = Array.from({ length: fragments - 1 }, () => rng.int(data.length + 1)).sort((a, b) => a - b);
    const bounds = [0, ...cuts, data.length];
    const controls: RecordedEvent[] = [];
    for (let f = 0; f < fragments; f++) {
      const opcode = f === 0 ? (isBinary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation;
      frames.push(
        frameBytes(opcode, data.subarray(bounds[f]!, bounds[f + 1]!), {
          fin: f === fragments - 1,
          rsv1: isCompressed && f === 0,
          mask,
        }),
      );
      if (f < fragments - 1 && rng.int(3) === 0) {
        const payload = rng.bytes(rng.int(126));
        const isPing = rng.int(2) === 0;
        frames.push(frameBytes(isPing ? Opcode.Ping : Opcode.Pong, payload, { mask }));
        controls.push(isPing ? ping(payload) : pong(payload));
      }
    }
    expected.push(...controls);
    expected.push(isCompressed ? compressed(data, isBinary) : isBinary ? binary(data) : text(data.toString()));
  }
  if (rng.int(2) === 0) {
    frames.push(frameBytes(Opcode.Close, hex('03 e8 62 79 65'), { mask }));
    expected.push(close(1000, 'bye'));
  }
  return { input: Buffer.concat(frames), expected };
}

function randomText(rng: ReturnType<typeof createRng>, byteBudget: number): string {
  const alphabet = ['a', 'Z', ' ', 'é', 'ß', '€', '中', '𝄞', '🎉', '\u0000', '\u07ff', '\u0800', '\uffff', '\u{10ffff}'];
  let out = '';
  let size = 0;
  while (size < byteBudget) {
    const c = alphabet[rng.int(alphabet.length)]!;
    out += c;
    size += Buffer.byteLength(c);
  }
  return out;
}
