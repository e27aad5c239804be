import { expect } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { FrameParser, type FrameHeader, type FrameSink } from '../../src/frame-parser.js';
import { MessageReader, type MessageReaderOptions, type MessageSink } from '../../src/message-reader.js';
import { describeBytes } from './bytes.js';

/** What a sink saw, in order; payloads kept as bytes and compared with `Buffer.equals`. */
export type RecordedEvent =
  | { type: 'header'; fin: boolean; rsv1: boolean; rsv2: boolean; rsv3: boolean; opcode: number; masked: boolean; payloadLength: number }
  /** A frame's payload: the pieces as delivered, or the whole expected bytes. */
  | { type: 'frame'; payload: Buffer | Buffer[] }
  | { type: 'message'; isBinary: boolean; data: Buffer }
  | { type: 'compressed'; isBinary: boolean; data: Buffer }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string };

/** A `FrameSink` that records headers and each frame's whole payload (pieces joined). */
export class RecordingFrameSink implements FrameSink {
  readonly events: RecordedEvent[] = [];
  /** Every payload piece, as delivered (to see how the parser split them). */
  readonly pieces: Buffer[] = [];
  private current: Buffer[] = [];

  onFrameHeader(h: FrameHeader): void {
    this.events.push({ type: 'header', ...h });
    this.current = [];
  }
  onFramePayload(piece: Buffer): void {
    this.pieces.push(piece);
    this.current.push(piece);
  }
  onFrameEnd(): void {
    // Pieces are kept, not joined: joining 64 KiB for each of 65 536 split points is what would be slow.
    this.events.push({ type: 'frame', payload: this.current });
  }
}

/**
 * A `MessageSink` that records what the reader assembles. Data is kept as
 * given (views into the input): the tests never reuse input after decoding.
 */
export class RecordingMessageSink implements MessageSink {
  readonly events: RecordedEvent[] = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', isBinary, data });
  }
  onCompressedMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'compressed', isBinary, data });
  }
  onPing(data: Buffer): void {
    this.events.push({ type: 'ping', data });
  }
  onPong(data: Buffer): void {
    this.events.push({ type: 'pong', data });
  }
  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
}

/**
 * Sits between the parser and the reader and counts the payload pieces the
 * reader is given, to prove a limit was enforced from the header alone.
 */
class CountingSink implements FrameSink {
  payloadPieces = 0;
  payloadBytes = 0;
  constructor(private readonly inner: FrameSink) {}
  onFrameHeader(h: FrameHeader): void {
    this.inner.onFrameHeader(h);
  }
  onFramePayload(piece: Buffer): void {
    this.payloadPieces++;
    this.payloadBytes += piece.length;
    this.inner.onFramePayload(piece);
  }
  onFrameEnd(): void {
    this.inner.onFrameEnd();
  }
}

export interface DecodeResult {
  events: RecordedEvent[];
  error: unknown;
  /** Index of the push that threw, or -1. */
  errorAt: number;
  /** Payload pieces handed to the reader (MessageReader decodes only). */
  payloadPieces: number;
  /** Payload bytes handed to the reader (MessageReader decodes only). */
  payloadBytes: number;
}

function pushAll(parser: FrameParser, chunks: Buffer[]): { error: unknown; errorAt: number } {
  for (let i = 0; i < chunks.length; i++) {
    try {
      parser.push(chunks[i]!);
    } catch (error) {
      return { error, errorAt: i };
    }
  }
  return { error: undefined, errorAt: -1 };
}

/** Feeds `chunks` to a FrameParser with a recording sink. */
export function decodeFrames(chunks: Buffer[]): DecodeResult & { sink: RecordingFrameSink } {
  const sink = new RecordingFrameSink();
  const parser = new FrameParser(sink);
  const { error, errorAt } = pushAll(parser, chunks);
  const payloadBytes = sink.pieces.reduce((n, p) => n + p.length, 0);
  return { events: sink.events, error, errorAt, payloadPieces: sink.pieces.length, payloadBytes, sink };
}

/** Feeds `chunks` through FrameParser → MessageReader → a recording sink. */
export function decodeMessages(chunks: Buffer[], options: MessageReaderOptions): DecodeResult {
  const sink = new RecordingMessageSink();
  const counter = new CountingSink(new MessageReader(options, sink));
  const parser = new FrameParser(counter);
  const { error, errorAt } = pushAll(parser, chunks);
  return { events: sink.events, error, errorAt, payloadPieces: counter.payloadPieces, payloadBytes: counter.payloadBytes };
}

/** Whether `pieces` joined would equal `whole`, without joining them. */
function samePieces(pieces: Buffer[], whole: Buffer): boolean {
  let offset = 0;
  for (const p of pieces) {
    if (offset + p.length > whole.length || !p.equals(whole.subarray(offset, offset + p.length))) return false;
    offset += p.length;
  }
  return offset === whole.length;
}

const joined = (x: Buffer | Buffer[]): Buffer => (Array.isArray(x) ? Buffer.concat(x) : x);

function sameEvent(a: RecordedEvent, b: RecordedEvent): boolean {
  if (a.type !== b.type) return false;
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) {
    const x = ra[key];
    const y = rb[key];
    if (Array.isArray(x) && Buffer.isBuffer(y)) {
      if (!samePieces(x, y)) return false;
    } else if (Buffer.isBuffer(x) && Array.isArray(y)) {
      if (!samePieces(y, x)) return false;
    } else if (Array.isArray(x) && Array.isArray(y)) {
      if (!joined(x).equals(joined(y))) return false;
    } else if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) {
      if (!x.equals(y)) return false;
    } else if (x !== y) {
      return false;
    }
  }
  return true;
}

/** Events with payloads shown as hex (or length and hash), for readable diffs. */
export function describeEvents(events: RecordedEvent[]): unknown[] {
  return events.map((e) => {
    const out: Record<string, unknown> = { ...e };
    for (const [k, v] of Object.entries(out)) {
      if (Buffer.isBuffer(v) || Array.isArray(v)) out[k] = describeBytes(joined(v as Buffer | Buffer[]));
    }
    return out;
  });
}

/** Whether two event lists are equal, payloads compared with `Buffer.equals` (fast on large ones). */
export function sameEvents(actual: RecordedEvent[], expected: RecordedEvent[]): boolean {
  return actual.length === expected.length && actual.every((e, i) => sameEvent(e, expected[i]!));
}

/** Asserts two event lists are equal; on a difference, shows both with payloads in hex. */
export function expectEvents(actual: RecordedEvent[], expected: RecordedEvent[], label: string): void {
  if (!sameEvents(actual, expected)) expect(describeEvents(actual), label).toEqual(describeEvents(expected));
}

/** Asserts `error` is a ProtocolError with this code and close code. */
export function expectProtocolError(error: unknown, code: string, closeCode: number, label = ''): void {
  expect(error, `${label}: expected ${code}`).toBeInstanceOf(ProtocolError);
  const e = error as ProtocolError;
  expect({ code: e.code, closeCode: e.closeCode }, label).toEqual({ code, closeCode });
}

// Shorthands for expected events.
export const text = (s: string): RecordedEvent => ({ type: 'message', isBinary: false, data: Buffer.from(s) });
export const binary = (data: Buffer): RecordedEvent => ({ type: 'message', isBinary: true, data });
export const ping = (data: Buffer | string = ''): RecordedEvent => ({ type: 'ping', data: Buffer.from(data) });
export const pong = (data: Buffer | string = ''): RecordedEvent => ({ type: 'pong', data: Buffer.from(data) });
export const close = (code: number, reason = ''): RecordedEvent => ({ type: 'close', code, reason });
export const compressed = (data: Buffer, isBinary = false): RecordedEvent => ({ type: 'compressed', isBinary, data });
