import { CloseCode } from './constants.js';
import { ProtocolError, ProtocolErrorCode, protocolError } from './errors.js';
import { applyMask, maskInto } from './mask.js';

/**
 * The header of the frame being parsed. The parser reuses one object: it is
 * valid only during `onFrameHeader`.
 */
export interface FrameHeader {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Payload length in bytes (≤ 2^53 − 1). */
  payloadLength: number;
}

/**
 * Receives what the parser finds. The parser decides no policy (masking
 * rules, size limits, reserved bits): the sink checks the header and throws a
 * `ProtocolError` to refuse it — before any of its payload is buffered.
 */
export interface FrameSink {
  /**
   * Returns true to receive this frame's payload in one piece (assembled
   * into a buffer of its own when it spans reads) rather than piece by piece.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a sink that never wants whole payloads returns nothing; `boolean | undefined` would refuse its `(): void` method.
  onFrameHeader(header: FrameHeader): boolean | void;
  /** A piece of the current frame's payload, already unmasked; a view into the input or the whole payload. */
  onFramePayload(piece: Buffer): void;
  onFrameEnd(): void;
}

/**
 * One header object for every parser: it is valid only during the sink's
 * `onFrameHeader`, which never parses another connection's input, so a
 * connection need not carry one of its own (memory per idle connection).
 */
const sharedHeader: FrameHeader = {
  fin: false,
  rsv1: false,
  rsv2: false,
  rsv3: false,
  opcode: 0,
  masked: false,
  payloadLength: 0,
};

enum State {
  Header,
  Payload,
  Failed,
}

/**
 * A streaming RFC 6455 §5.2 frame parser: feed it chunks as they arrive, split
 * anywhere. Headers are read straight from the chunk when they lie within it
 * (copied only when split across chunks); payload is passed on as views into
 * the chunks, piece by piece, so nothing is buffered for data frames.
 *
 * Learned from `ws`' receiver (an explicit state machine over queued chunks)
 * and uWebSockets (policy through a handler); written from the RFC.
 */
export class FrameParser {
  private readonly chunks: Buffer[] = [];
  /** Read position within `chunks[0]`. */
  private offset = 0;
  private buffered = 0;
  private state = State.Header;
  private paused = false;
  private running = false;
  private remaining = 0;
  private masked = false;
  private maskOffset = 0;
  // A slice of Node's shared pool: a connection should not own an ArrayBuffer of its own for 4 bytes.
  private readonly mask = Buffer.allocUnsafe(4);
  /** The sink wants the current frame's payload whole. */
  private whole = false;

  constructor(private readonly sink: FrameSink) {}

  /**
   * Parses as much of `chunk` (and anything queued) as it can. Throws the
   * `ProtocolError` that stopped it; after that the parser accepts nothing more.
   */
  push(chunk: Buffer): void {
    if (this.state === State.Failed) return;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (!this.paused && !this.running) this.run();
  }

  /** Stops delivering until `resume()`; input keeps being queued. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.running && this.state !== State.Failed) this.run();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Bytes received but not yet parsed. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  private run(): void {
    this.running = true;
    try {
      while (!this.paused) {
        if (this.state === State.Header) {
          if (!this.readHeader()) break;
        } else if (this.state === State.Payload) {
          if (!this.readPayload()) break;
        } else {
          break;
        }
      }
    } catch (err) {
      this.fail();
      throw err;
    } finally {
      this.running = false;
    }
  }

  private fail(): void {
    this.state = State.Failed;
    this.chunks.length = 0;
    this.buffered = 0;
    this.offset = 0;
  }

  /** Reads one whole header if enough bytes are queued; returns whether it did. */
  private readHeader(): boolean {
    if (this.buffered < 2) return false;
    let buf = this.chunks[0]!;
    let pos = this.offset;
    if (buf.length - pos < 2) {
      this.gather(2);
      buf = this.chunks[0]!;
      pos = 0;
    }
    const b0 = buf[pos]!;
    const b1 = buf[pos + 1]!;
    const lengthCode = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const size = 2 + (lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (this.buffered < size) return false;
    if (buf.length - pos < size) {
      this.gather(size);
      buf = this.chunks[0]!;
      pos = 0;
    }

    let length = lengthCode;
    let p = pos + 2;
    if (lengthCode === 126) {
      length = buf.readUInt16BE(p);
      p += 2;
    } else if (lengthCode === 127) {
      const high = buf.readUInt32BE(p);
      // RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0.
      if (high & 0x80000000) {
        throw protocolError(ProtocolErrorCode.InvalidLength, 'the 64-bit payload length has its top bit set');
      }
      // Lengths past 2^53 − 1 cannot be counted exactly; no limit could allow them anyway.
      if (high > 0x1fffff) {
        throw new ProtocolError(
          ProtocolErrorCode.MessageTooBig,
          CloseCode.MessageTooBig,
          'the payload length exceeds 2^53 - 1',
        );
      }
      length = high * 0x1_0000_0000 + buf.readUInt32BE(p + 4);
      p += 8;
    }
    if (masked) {
      this.mask[0] = buf[p]!;
      this.mask[1] = buf[p + 1]!;
      this.mask[2] = buf[p + 2]!;
      this.mask[3] = buf[p + 3]!;
    }
    this.advance(size);

    const h = sharedHeader;
    h.fin = (b0 & 0x80) !== 0;
    h.rsv1 = (b0 & 0x40) !== 0;
    h.rsv2 = (b0 & 0x20) !== 0;
    h.rsv3 = (b0 & 0x10) !== 0;
    h.opcode = b0 & 0x0f;
    h.masked = masked;
    h.payloadLength = length;
    this.masked = masked;
    this.maskOffset = 0;
    this.remaining = length;
    this.whole = this.sink.onFrameHeader(h) === true;
    if (length === 0) {
      this.sink.onFrameEnd();
    } else {
      this.state = State.Payload;
    }
    return true;
  }

  /** Passes on the payload bytes queued so far; returns whether the frame ended. */
  private readPayload(): boolean {
    // Whole and within the current read: the usual path hands it on as one view, uncopied.
    if (this.whole && this.offset + this.remaining > (this.chunks[0]?.length ?? 0)) return this.assemblePayload();
    while (this.remaining > 0) {
      if (this.buffered === 0 || this.paused) return false;
      const buf = this.chunks[0]!;
      const available = buf.length - this.offset;
      const take = Math.min(available, this.remaining);
      const piece =
        this.offset === 0 && take === buf.length ? buf : buf.subarray(this.offset, this.offset + take);
      this.advance(take);
      this.remaining -= take;
      if (this.masked) {
        applyMask(piece, this.mask, this.maskOffset);
        this.maskOffset = (this.maskOffset + take) & 3;
      }
      this.sink.onFramePayload(piece);
      if (this.state === State.Failed) return false;
    }
    this.state = State.Header;
    this.sink.onFrameEnd();
    return true;
  }

  /**
   * A payload wanted whole that spans reads: once all of it has arrived (we
   * allocate nothing for bytes not received), it is copied — and unmasked in
   * the same pass — into one buffer of the frame's size. That saves the sink a
   * separate concatenation and the in-place unmasking of every piece.
   */
  private assemblePayload(): boolean {
    if (this.buffered < this.remaining || this.paused) return false;
    const total = this.remaining;
    const target = Buffer.allocUnsafe(total);
    let at = 0;
    while (at < total) {
      const buf = this.chunks[0]!;
      const take = Math.min(buf.length - this.offset, total - at);
      const piece = buf.subarray(this.offset, this.offset + take);
      if (this.masked) maskInto(piece, this.mask, target, at, (this.maskOffset + at) & 3);
      else target.set(piece, at);
      this.advance(take);
      at += take;
    }
    this.remaining = 0;
    this.state = State.Header;
    this.sink.onFramePayload(target);
    if ((this.state as State) === State.Failed) return false;
    this.sink.onFrameEnd();
    return true;
  }

  /** Drops `n` bytes from the front of the queue. */
  private advance(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const buf = this.chunks[0]!;
      const left = buf.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.offset = 0;
    }
  }

  /** Copies the first `n` queued bytes into one chunk at the front (rare: a header split across reads). */
  private gather(n: number): void {
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let i = 0;
    let offset = this.offset;
    while (copied < n) {
      const buf = this.chunks[i]!;
      const take = Math.min(buf.length - offset, n - copied);
      buf.copy(out, copied, offset, offset + take);
      copied += take;
      if (offset + take === buf.length) {
        i++;
        offset = 0;
      } else {
        offset += take;
      }
    }
    // Replace the consumed chunks with the gathered copy followed by what is left.
    const rest = this.chunks[i];
    const restOffset = offset;
    this.chunks.splice(0, i + (rest !== undefined && restOffset > 0 ? 1 : 0), out);
    if (rest !== undefined && restOffset > 0) this.chunks.splice(1, 0, rest.subarray(restOffset));
    this.offset = 0;
  }
}
