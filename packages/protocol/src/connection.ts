import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { buildClosePayload } from './close-frame.js';
import {
  CONTROL_FRAME_OVERHEAD,
  CloseCode,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_PAYLOAD,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  ReadyState,
} from './constants.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { encodeFrame } from './frame-encoder.js';
import { FrameParser } from './frame-parser.js';
import { MessageReader, type MessageSink } from './message-reader.js';
import { HEARTBEAT_TICKS_PER_TIMEOUT, unwatchHeartbeat, watchHeartbeat, type HeartbeatMember } from './heartbeat.js';
import { PerMessageDeflate, type DeflateParams, type PerMessageDeflateOptions } from './permessage-deflate.js';
import { isValidUtf8 } from './utf8.js';

/** Settings shared by both roles. */
export interface ConnectionOptions {
  /** Largest message accepted, in bytes, after inflation; larger ones close with 1009. Default 16 MiB. */
  maxPayload?: number;
  /**
   * Heartbeat: a peer from which nothing has arrived for this long is dropped
   * (close code 1006 locally). It is pinged once it has been silent for half of
   * it, so a live but idle peer answers in time. The check ticks four times per
   * timeout, so a silent peer is dropped between 1 and 1¼ × `idleTimeoutMs`
   * after its last byte. Default 0 (off).
   */
  idleTimeoutMs?: number;
  /**
   * The send backlog (`bufferedAmount`) past which a peer that keeps asking for
   * replies — pings whose pongs it does not read — is failed with 1013
   * (`ERR_SEND_BUFFER_FULL`). Data sends are the caller's to bound (`send`
   * returns false; compare `bufferedAmount` with the same figure). Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /** How long to wait for the peer's close frame or TCP close after ours, before dropping. Default 5000. */
  closeTimeoutMs?: number;
}

/** What the handshake agreed on; set by `acceptUpgrade` and `connect`. */
export interface ConnectionInit extends ConnectionOptions {
  role: 'server' | 'client';
  protocol?: string | undefined;
  extensions?: string;
  deflate?: DeflateParams | undefined;
  deflateOptions?: PerMessageDeflateOptions;
}

export interface SendOptions {
  /** Send as a binary frame. Default: true for buffers, false for strings. */
  binary?: boolean;
  /** Compress when permessage-deflate was agreed and the message reaches its threshold. Default true. */
  compress?: boolean;
}

export type SendCallback = (err?: Error | null) => void;

/** Events: see the README's "Connection" section. */
export interface WebSocketConnectionEvents {
  message: [data: Buffer, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  drain: [];
  error: [err: Error];
  close: [code: number, reason: string];
}

const kConnection = Symbol('connection');
type TaggedSocket = Duplex & { [kConnection]?: WebSocketConnection };

// Socket listeners shared by all connections (found through the socket), so
// that an idle connection does not hold five closures.
function onSocketData(this: TaggedSocket, chunk: Buffer): void {
  this[kConnection]!.receive(chunk);
}
function onSocketEnd(this: TaggedSocket): void {
  // The peer will send nothing more; finish our side too (TCP half-close).
  this.end();
}
function onSocketClose(this: TaggedSocket): void {
  this[kConnection]!.socketClosed();
}
function onSocketError(this: TaggedSocket, err: Error): void {
  this[kConnection]!.socketError(err);
}
function onSocketDrain(this: TaggedSocket): void {
  this[kConnection]!.maybeDrained();
}

const NOT_OPEN = () => new Error('the WebSocket is not open');

/**
 * One WebSocket over an upgraded socket: the only module here that does I/O.
 * Frames are parsed by `FrameParser`, assembled and checked by
 * `MessageReader`; this class answers pings, runs the close handshake,
 * orders sends behind compression, and reports backpressure.
 */
export class WebSocketConnection extends EventEmitter<WebSocketConnectionEvents> implements MessageSink, HeartbeatMember {
  readonly protocol: string | undefined;
  /** The agreed `Sec-WebSocket-Extensions` value, '' when none. */
  readonly extensions: string;
  private state: ReadyState = ReadyState.Open;
  private readonly socket: TaggedSocket;
  private readonly isClient: boolean;
  private readonly parser: FrameParser;
  private readonly deflate: PerMessageDeflate | undefined;
  private readonly closeTimeoutMs: number;

  /** Sends waiting behind a compression in flight (RFC 7692 keeps messages in order). */
  private sendQueue: Array<() => void> | undefined;
  private queuedBytes = 0;
  /**
   * What control frames not yet written cost (see `sendControl`). Apart from
   * `queuedBytes` so that 'drain' stays the socket's and the queue's alone.
   */
  private controlBytes = 0;
  private readonly maxBufferedBytes: number;
  private userPaused = false;
  private inflating = false;

  private closeSent = false;
  private closeReceived = false;
  private closeCode: number = CloseCode.Abnormal;
  private closeReason = '';
  private closeTimer: NodeJS.Timeout | undefined;

  /** Bytes received with the handshake, not yet parsed. */
  private head: Buffer | undefined;
  /** `send` returned false: a 'drain' is owed once the socket and the queue have room. */
  private owedDrain = false;

  /** The idle timeout this connection is watched with (0: none). */
  private heartbeatMs = 0;
  /** Heartbeat ticks since something last arrived (a tick is a quarter of the idle timeout). */
  private silentTicks = 0;

  constructor(socket: Duplex, head: Buffer | undefined, init: ConnectionInit) {
    super();
    this.socket = socket as TaggedSocket;
    this.isClient = init.role === 'client';
    this.protocol = init.protocol;
    this.extensions = init.extensions ?? '';
    this.closeTimeoutMs = init.closeTimeoutMs ?? 5000;
    this.maxBufferedBytes = init.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    const maxPayload = init.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (init.deflate) this.deflate = new PerMessageDeflate(init.deflate, init.role, maxPayload, init.deflateOptions);
    const reader = new MessageReader({ role: init.role, maxPayload, compression: this.deflate !== undefined }, this);
    this.parser = new FrameParser(reader);

    const s = this.socket;
    s[kConnection] = this;
    const net = s as Duplex & { setNoDelay?: (on: boolean) => void; setTimeout?: (ms: number) => void };
    net.setNoDelay?.(true);
    net.setTimeout?.(0);
    s.on('data', onSocketData);
    s.on('end', onSocketEnd);
    s.on('close', onSocketClose);
    s.on('error', onSocketError);
    s.on('drain', onSocketDrain);

    if (init.idleTimeoutMs && init.idleTimeoutMs > 0) {
      this.heartbeatMs = init.idleTimeoutMs;
      watchHeartbeat(this.heartbeatMs, this);
    }
    // Bytes that came with the handshake are parsed once the caller has had a
    // chance to attach listeners — including a client's `await connect()`
    // continuation, which runs after nextTick but before setImmediate. Should
    // socket data come first, the head goes ahead of it (`receive`).
    if (head && head.length > 0) {
      this.head = head;
      setImmediate(() => this.receive(EMPTY));
    }
  }

  /** `ReadyState`: 1 open, 2 closing, 3 closed (numbered as in browsers). */
  get readyState(): ReadyState {
    return this.state;
  }

  /**
   * Bytes accepted by `send` but not yet handed to the operating system; a
   * control frame not yet written counts its payload and `CONTROL_FRAME_OVERHEAD`.
   */
  get bufferedAmount(): number {
    return this.queuedBytes + this.controlBytes + this.socket.writableLength;
  }

  /** The peer's address, when the socket has one. */
  get remoteAddress(): string | undefined {
    return (this.socket as Duplex & { remoteAddress?: string }).remoteAddress;
  }

  /**
   * Sends a message. Returns false when the socket's buffer is over its high
   * water mark: wait for `'drain'` before sending more. The callback runs once
   * the data is written to the socket, or with an error if it never will be.
   */
  send(data: string | Uint8Array, options?: SendOptions | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    if (!this.canSend()) {
      if (callback) process.nextTick(callback, NOT_OPEN());
      return false;
    }
    const binary = options?.binary ?? typeof data !== 'string';
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    const opcode = binary ? Opcode.Binary : Opcode.Text;
    const compress =
      this.deflate !== undefined && options?.compress !== false && payload.length >= this.deflate.threshold;
    if (this.sendQueue) {
      this.queuedBytes += payload.length;
      this.sendQueue.push(() => {
        this.queuedBytes -= payload.length;
        this.dispatch(opcode, payload, compress, callback);
      });
      return this.hasRoom();
    }
    this.dispatch(opcode, payload, compress, callback);
    return this.hasRoom();
  }

  /** Whether more may be sent now; if not, a 'drain' event will say when. */
  private hasRoom(): boolean {
    const socket = this.socket;
    if (!socket.writableNeedDrain && this.queuedBytes < socket.writableHighWaterMark) return true;
    this.owedDrain = true;
    return false;
  }

  /** @internal Emits the owed 'drain' once both the socket and the compression queue have room. */
  maybeDrained(): void {
    if (!this.owedDrain || this.state === ReadyState.Closed) return;
    if (this.socket.writableNeedDrain || this.queuedBytes >= this.socket.writableHighWaterMark) return;
    this.owedDrain = false;
    this.emit('drain');
  }

  /**
   * Writes an already-encoded frame (see `encodeFrameBuffer`): the way to
   * broadcast, encoding once for many connections. Server role, no compression.
   */
  sendFrame(frame: Buffer, callback?: SendCallback): boolean {
    if (!this.canSend()) {
      if (callback) process.nextTick(callback, NOT_OPEN());
      return false;
    }
    if (this.sendQueue) {
      this.queuedBytes += frame.length;
      this.sendQueue.push(() => {
        this.queuedBytes -= frame.length;
        this.socket.write(frame, callback);
      });
      return this.hasRoom();
    }
    this.socket.write(frame, callback);
    return this.hasRoom();
  }

  /** Sends a ping (RFC 6455 §5.5.2); the payload is at most 125 bytes. */
  ping(data: string | Uint8Array = EMPTY, callback?: SendCallback): void {
    this.sendControl(Opcode.Ping, data, callback);
  }

  /** Sends an unsolicited pong (a heartbeat that needs no answer, RFC 6455 §5.5.3). */
  pong(data: string | Uint8Array = EMPTY, callback?: SendCallback): void {
    this.sendControl(Opcode.Pong, data, callback);
  }

  /**
   * Starts the close handshake (RFC 6455 §7.1.2). Without a code the close
   * frame is empty (the peer sees 1005). The connection drops on its own if the
   * peer does not complete the handshake within `closeTimeoutMs`.
   */
  close(code?: number, reason = ''): void {
    if (this.state === ReadyState.Closed) return;
    if (this.closeSent) return;
    const payload = buildClosePayload(code, reason);
    this.state = ReadyState.Closing;
    this.closeSent = true;
    this.enqueue(() => this.writeFrame(Opcode.Close, payload, false));
    if (this.closeReceived) {
      this.finishClosing();
    } else {
      this.armCloseTimer();
    }
  }

  /** Drops the connection at once, without a close handshake. */
  terminate(): void {
    if (this.state === ReadyState.Closed) return;
    this.state = ReadyState.Closing;
    this.socket.destroy();
  }

  /**
   * Holds writes until `uncork()` so that several frames leave in one system
   * call (a broadcast burst, a batch of replies). Calls nest, as on a socket.
   */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Stops reading from the peer (backpressure towards it) until `resume()`. */
  pause(): void {
    this.userPaused = true;
    this.updateFlow();
  }

  resume(): void {
    this.userPaused = false;
    this.updateFlow();
  }

  // ---- receiving -------------------------------------------------------

  /** @internal Called with each chunk from the socket. */
  receive(chunk: Buffer): void {
    this.silentTicks = 0;
    if (this.closeReceived) return;
    if (this.head) {
      const head = this.head;
      this.head = undefined;
      chunk = chunk.length === 0 ? head : Buffer.concat([head, chunk]);
    }
    if (chunk.length === 0) return;
    // Replies sent while this chunk's messages are handled (pongs, echoes,
    // chat acks) leave in one write rather than one per message.
    const socket = this.socket;
    socket.cork();
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.failWith(err);
    } finally {
      socket.uncork();
    }
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state !== ReadyState.Open) return;
    this.emit('message', data, isBinary);
  }

  /** @internal */
  onCompressedMessage(data: Buffer, isBinary: boolean): void {
    // Later frames wait until this message is inflated, so messages stay in order.
    this.parser.pause();
    this.inflating = true;
    this.updateFlow();
    this.deflate!.decompress(data, (err, inflated) => {
      this.inflating = false;
      if (this.state === ReadyState.Closed) return;
      if (err) return this.failWith(err);
      if (!isBinary && !isValidUtf8(inflated!)) {
        return this.failWith(
          new ProtocolError(ProtocolErrorCode.InvalidUtf8, CloseCode.InvalidPayload, 'a text message is not valid UTF-8'),
        );
      }
      this.onMessage(inflated!, isBinary);
      this.updateFlow();
      try {
        this.parser.resume();
      } catch (e) {
        this.failWith(e);
      }
    });
  }

  /** @internal RFC 6455 §5.5.2: answer a ping with a pong carrying the same data. */
  onPing(data: Buffer): void {
    if (!this.closeSent) {
      // A peer that pings without reading our pongs would grow the backlog without
      // bound (issue #24.6: 715 MB): its pongs count against the same bound as data.
      if (this.bufferedAmount + data.length + CONTROL_FRAME_OVERHEAD > this.maxBufferedBytes) {
        this.failWith(
          new ProtocolError(
            ProtocolErrorCode.SendBufferFull,
            CloseCode.TryAgainLater,
            'the send buffer is full: pongs are not being read',
          ),
        );
        return;
      }
      // Copied: the ping's payload is a view into the read it came in, which the
      // queued pong would otherwise keep alive (a 64 KiB read per 125-byte pong).
      this.sendControl(Opcode.Pong, Buffer.from(data));
    }
    this.emit('ping', data);
  }

  /** @internal */
  onPong(data: Buffer): void {
    this.emit('pong', data);
  }

  /** @internal RFC 6455 §5.5.1: answer a close, then the server closes TCP first (§7.1.1). */
  onClose(code: number, reason: string): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    this.parser.pause();
    if (!this.closeSent) {
      this.state = ReadyState.Closing;
      this.closeSent = true;
      // Echo the code (§5.5.1); with none received, send none.
      const payload = code === CloseCode.NoStatus ? EMPTY : buildClosePayload(code);
      this.enqueue(() => this.writeFrame(Opcode.Close, payload, false));
    }
    this.finishClosing();
  }

  // ---- closing ---------------------------------------------------------

  /** Both close frames are exchanged: the server closes TCP; the client waits for it to. */
  private finishClosing(): void {
    if (this.isClient) {
      this.armCloseTimer();
    } else {
      this.enqueue(() => this.socket.end());
      this.armCloseTimer();
    }
  }

  private armCloseTimer(): void {
    if (this.closeTimer) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /** "Fail the WebSocket Connection" (RFC 6455 §7.1.7): send a close with the reason's code, then drop. */
  private failWith(err: unknown): void {
    if (this.state === ReadyState.Closed) return;
    const error = err instanceof Error ? err : new Error(String(err));
    const closeCode = error instanceof ProtocolError ? error.closeCode : CloseCode.InternalError;
    this.parser.pause();
    this.closeReceived = true; // nothing more is read
    this.closeCode = closeCode;
    this.closeReason = error.message;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    if (!this.closeSent) {
      this.closeSent = true;
      this.state = ReadyState.Closing;
      const reason = Buffer.byteLength(error.message) <= 123 ? error.message : '';
      const payload = buildClosePayload(closeCode, reason);
      this.enqueue(() => this.writeFrame(Opcode.Close, payload, false));
    }
    this.enqueue(() => this.socket.end());
    this.armCloseTimer();
  }

  /** @internal */
  socketClosed(): void {
    if (this.state === ReadyState.Closed) return;
    this.state = ReadyState.Closed;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.heartbeatMs > 0) unwatchHeartbeat(this.heartbeatMs, this);
    this.deflate?.close();
    const queue = this.sendQueue;
    this.sendQueue = undefined;
    if (queue) for (const op of queue) op(); // their writes fail, reporting to callbacks
    this.socket.removeListener('data', onSocketData);
    this.emit('close', this.closeCode, this.closeReason);
  }

  /** @internal */
  socketError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.socket.destroy();
  }

  /**
   * @internal Four times per idle timeout (see heartbeat.ts). At the n-th tick
   * since the last byte arrived, the peer has been silent for more than n − 1
   * ticks and less than n: it is pinged at the third (silent for ½–¾ of the
   * timeout) and dropped at the fifth (silent for 1–1¼ × the timeout), which
   * leaves it at least half the timeout to answer.
   */
  onHeartbeat(): void {
    const ticks = ++this.silentTicks;
    if (ticks === PING_AT_TICK && this.state === ReadyState.Open) {
      this.ping();
    } else if (ticks > HEARTBEAT_TICKS_PER_TIMEOUT) {
      this.terminate();
    }
  }

  // ---- sending ---------------------------------------------------------

  private updateFlow(): void {
    if (this.userPaused || this.inflating) this.socket.pause();
    else this.socket.resume();
  }

  /**
   * Open, no close frame sent, and the socket not destroyed. (A destroyed
   * socket's 'close' comes a tick later; a write in between would only build
   * an ERR_STREAM_DESTROYED error — costly when a broadcast meets many
   * sockets dropped at once.)
   */
  private canSend(): boolean {
    return this.state === ReadyState.Open && !this.closeSent && !this.socket.destroyed;
  }

  private sendControl(opcode: number, data: string | Uint8Array, callback?: SendCallback): void {
    if (!this.canSend()) {
      if (callback) process.nextTick(callback, NOT_OPEN());
      return;
    }
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError('a control frame payload is at most 125 bytes');
    // Charged in `bufferedAmount` until written: its payload while it waits behind a
    // compression (after that the socket's `writableLength` counts it), and a
    // fixed overhead for its header and write-queue entry until the write completes.
    this.controlBytes += payload.length + CONTROL_FRAME_OVERHEAD;
    const written: SendCallback = (err) => {
      this.controlBytes -= CONTROL_FRAME_OVERHEAD;
      callback?.(err);
    };
    this.enqueue(() => {
      this.controlBytes -= payload.length;
      this.writeFrame(opcode, payload, false, written);
    });
  }

  /** Runs `op` now, or after the compression in flight, keeping wire order. */
  private enqueue(op: () => void): void {
    if (this.sendQueue) this.sendQueue.push(op);
    else op();
  }

  private dispatch(opcode: number, payload: Uint8Array, compress: boolean, callback?: SendCallback): void {
    if (!compress) {
      this.writeFrame(opcode, payload, false, callback);
      return;
    }
    this.sendQueue = [];
    this.deflate!.compress(Buffer.from(payload.buffer, payload.byteOffset, payload.length), (err, compressed) => {
      if (err) {
        callback?.(err);
      } else {
        this.writeFrame(opcode, compressed!, true, callback);
      }
      this.flushQueue();
    });
  }

  /** Runs queued sends in order until one starts another compression. */
  private flushQueue(): void {
    const queue = this.sendQueue;
    this.sendQueue = undefined;
    if (!queue) return;
    for (let i = 0; i < queue.length; i++) {
      queue[i]!();
      if (this.sendQueue) {
        // That op started a compression: the rest waits behind it.
        (this.sendQueue as Array<() => void>).push(...queue.slice(i + 1));
        break;
      }
    }
    this.maybeDrained();
  }

  private writeFrame(opcode: number, payload: Uint8Array, rsv1: boolean, callback?: SendCallback): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) {
      if (callback) process.nextTick(callback, NOT_OPEN());
      return;
    }
    const parts = encodeFrame(opcode, payload, true, rsv1, this.isClient);
    if (parts.length === 1) {
      socket.write(parts[0]!, callback);
    } else {
      socket.cork();
      socket.write(parts[0]!);
      socket.write(parts[1]!, callback);
      socket.uncork();
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** The heartbeat tick at which a silent peer is pinged: silent for ½–¾ of the idle timeout. */
const PING_AT_TICK = 3;
