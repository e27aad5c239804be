import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { parseClosePayload } from './close-frame.js';
import { ProtocolError, ProtocolErrorCode, protocolError } from './errors.js';
import type { FrameHeader, FrameSink } from './frame-parser.js';
import { MessageAssembly } from './message-assembly.js';
import { Utf8StreamValidator, isValidUtf8 } from './utf8.js';

/** What the reader assembles from frames. */
export interface MessageSink {
  /** A complete, uncompressed message; text has been validated as UTF-8. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A complete message with RSV1 set: to be inflated (and then validated) by the caller. */
  onCompressedMessage(data: Buffer, isBinary: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** A valid close frame; `code` is 1005 when it carried none. */
  onClose(code: number, reason: string): void;
}

export interface MessageReaderOptions {
  /** Servers require masked frames, clients unmasked ones (RFC 6455 §5.1). */
  role: 'server' | 'client';
  /** Largest message accepted, in bytes (compressed size here; the inflater checks the rest). */
  maxPayload: number;
  /** Whether permessage-deflate was negotiated, which gives RSV1 a meaning (RFC 7692 §6). */
  compression: boolean;
}

const EMPTY = Buffer.alloc(0);

/**
 * Turns frames into messages and enforces RFC 6455's rules on them: masking,
 * reserved bits and opcodes, control frame limits, fragmentation order, size
 * limits (checked from the header, before payload is kept) and UTF-8 in text,
 * checked piece by piece so that invalid text fails on its first bad byte.
 */
export class MessageReader implements FrameSink {
  private readonly requireMask: boolean;
  /** Made for the first text message checked piece by piece: most connections never have one. */
  private validator: Utf8StreamValidator | undefined;
  private readonly maxPayload: number;
  private readonly compression: boolean;

  // The frame in progress.
  private frameIsControl = false;
  private frameOpcode = 0;
  private frameFin = false;
  private frameLength = 0;
  private controlPieces: Buffer[] = [];

  // The message in progress.
  private inMessage = false;
  private messageIsBinary = false;
  private messageCompressed = false;
  private messageLength = 0;
  /** Whether the message's text is checked piece by piece (otherwise in one go at the end). */
  private streamingUtf8 = false;
  /** Made with the first data frame: a connection that never sends one costs nothing for it. */
  private assembly: MessageAssembly | undefined;

  constructor(
    options: MessageReaderOptions,
    private readonly sink: MessageSink,
  ) {
    // Fields rather than the options object: one object fewer per connection.
    this.requireMask = options.role === 'server';
    this.maxPayload = options.maxPayload;
    this.compression = options.compression;
  }

  onFrameHeader(h: FrameHeader): boolean {
    // RFC 6455 §5.2: RSV2/RSV3 have no meaning without an extension that defines them.
    if (h.rsv2 || h.rsv3) throw protocolError(ProtocolErrorCode.ReservedBits, 'RSV2/RSV3 set without an extension');
    // RFC 6455 §5.1: clients mask every frame; servers never do.
    if (h.masked !== this.requireMask) {
      throw this.requireMask
        ? protocolError(ProtocolErrorCode.UnmaskedFrame, 'a client frame was not masked')
        : protocolError(ProtocolErrorCode.MaskedFrame, 'a server frame was masked');
    }
    const opcode = h.opcode;
    this.frameOpcode = opcode;
    this.frameFin = h.fin;
    this.frameLength = h.payloadLength;

    if (opcode >= 0x8) {
      if (opcode > Opcode.Pong) throw protocolError(ProtocolErrorCode.ReservedOpcode, `reserved opcode 0x${opcode.toString(16)}`);
      // RFC 6455 §5.5: control frames are never fragmented and carry ≤ 125 bytes.
      if (!h.fin) throw protocolError(ProtocolErrorCode.ControlFragmented, 'a control frame was fragmented');
      if (h.payloadLength > MAX_CONTROL_PAYLOAD) {
        throw protocolError(ProtocolErrorCode.ControlTooLong, 'a control frame carried more than 125 bytes');
      }
      // RFC 7692 §6: RSV1 marks only the first frame of a data message.
      if (h.rsv1) throw protocolError(ProtocolErrorCode.ReservedBits, 'RSV1 set on a control frame');
      this.frameIsControl = true;
      return false;
    }
    this.frameIsControl = false;

    if (opcode === Opcode.Continuation) {
      if (!this.inMessage) throw protocolError(ProtocolErrorCode.UnexpectedContinuation, 'a continuation frame without a message to continue');
      if (h.rsv1) throw protocolError(ProtocolErrorCode.ReservedBits, 'RSV1 set on a continuation frame');
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.inMessage) throw protocolError(ProtocolErrorCode.ExpectedContinuation, 'a new message began before the fragmented one ended');
      if (h.rsv1 && !this.compression) {
        throw protocolError(ProtocolErrorCode.ReservedBits, 'RSV1 set but no compression was negotiated');
      }
      this.inMessage = true;
      this.messageIsBinary = opcode === Opcode.Binary;
      this.messageCompressed = h.rsv1;
      this.messageLength = 0;
      // A whole text message in one frame is checked at its end, in one call;
      // fragments are checked as they come so that bad text fails early.
      this.streamingUtf8 = !this.messageIsBinary && !h.rsv1 && !h.fin;
    } else {
      throw protocolError(ProtocolErrorCode.ReservedOpcode, `reserved opcode 0x${opcode.toString(16)}`);
    }

    if (this.messageLength + h.payloadLength > this.maxPayload) {
      throw new ProtocolError(
        ProtocolErrorCode.MessageTooBig,
        CloseCode.MessageTooBig,
        `the message exceeds the limit of ${this.maxPayload} bytes`,
      );
    }
    // Binary and compressed payloads are wanted whole (one buffer, no concatenation);
    // plain text streams in pieces so that invalid UTF-8 fails on its first bad byte.
    return this.messageIsBinary || this.messageCompressed;
  }

  onFramePayload(piece: Buffer): void {
    if (this.frameIsControl) {
      this.controlPieces.push(piece);
      return;
    }
    this.messageLength += piece.length;
    (this.assembly ??= new MessageAssembly(this.maxPayload)).append(piece);
    // A single-frame text message whose payload came split across reads is
    // also checked as it streams in, so a bad byte fails before the rest arrives.
    if (!this.streamingUtf8 && !this.messageIsBinary && !this.messageCompressed && piece.length < this.frameLength) {
      this.streamingUtf8 = true;
    }
    if (this.streamingUtf8 && !(this.validator ??= new Utf8StreamValidator()).write(piece)) throw invalidUtf8();
  }

  onFrameEnd(): void {
    if (this.frameIsControl) {
      this.endControlFrame();
      return;
    }
    if (!this.frameFin) {
      // The message waits for its next fragment: it must not keep this read alive meanwhile.
      this.assembly?.detach();
      return;
    }

    const data = this.assembly === undefined ? EMPTY : this.assembly.take();
    const isBinary = this.messageIsBinary;
    const compressed = this.messageCompressed;
    if (!isBinary && !compressed) {
      const valid = this.streamingUtf8 ? (this.validator ??= new Utf8StreamValidator()).end() : isValidUtf8(data);
      if (!valid) throw invalidUtf8();
    }
    this.inMessage = false;
    this.streamingUtf8 = false;
    if (compressed) this.sink.onCompressedMessage(data, isBinary);
    else this.sink.onMessage(data, isBinary);
  }

  private endControlFrame(): void {
    const pieces = this.controlPieces;
    const payload = pieces.length === 0 ? EMPTY : pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    if (pieces.length > 0) this.controlPieces = [];
    switch (this.frameOpcode) {
      case Opcode.Ping:
        this.sink.onPing(payload);
        break;
      case Opcode.Pong:
        this.sink.onPong(payload);
        break;
      default: {
        const { code, reason } = parseClosePayload(payload);
        this.sink.onClose(code, reason);
      }
    }
  }
}

function invalidUtf8(): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidUtf8, CloseCode.InvalidPayload, 'a text message is not valid UTF-8');
}
