import zlib from 'node:zlib';
import { CloseCode, DEFLATE_TRAILER } from './constants.js';
import type { ExtensionOffer } from './extension-header.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';

export const EXTENSION_NAME = 'permessage-deflate';

/** Configuration of permessage-deflate (RFC 7692). */
export interface PerMessageDeflateOptions {
  /** Ask that the server resets its compression context after every message. Default false. */
  serverNoContextTakeover?: boolean;
  /** Ask that the client resets its compression context after every message. Default false. */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window (9–15) the server compresses with. Default 15. */
  serverMaxWindowBits?: number;
  /** Largest window (9–15) the client is asked to compress with, when it allows. Default: not asked. */
  clientMaxWindowBits?: number;
  /** zlib compression level. Default 6 (zlib's default). */
  level?: number;
  /** zlib memLevel (1–9): memory per compressor versus speed. Default 8. */
  memLevel?: number;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
}

/** What both ends agreed on. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

// zlib cannot produce raw deflate with an 8-bit window (it quietly uses 9), so
// this package never agrees to compress with 8: it declines such offers.
const MIN_DEFLATE_WINDOW_BITS = 9;

function parseWindowBits(value: string | true | undefined, allowBare: boolean): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === true) return allowBare ? null : NaN;
  if (!/^(8|9|1[0-5])$/.test(value)) return NaN;
  return Number(value);
}

interface ParsedOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined: not present. */
  serverMaxWindowBits: number | undefined;
  /** undefined: not present; null: present without a value. */
  clientMaxWindowBits: number | null | undefined;
}

/**
 * Reads one permessage-deflate element's parameters, or returns undefined if
 * they break RFC 7692 §7.1 (unknown name, repeated, bad value).
 */
function readParams(offer: ExtensionOffer): ParsedOffer | undefined {
  const seen = new Set<string>();
  const out: ParsedOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const [name, value] of offer.params) {
    if (seen.has(name)) return undefined;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
        if (value !== true) return undefined;
        out.serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== true) return undefined;
        out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = parseWindowBits(value, false);
        if (bits === null || Number.isNaN(bits)) return undefined;
        out.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        const bits = parseWindowBits(value, true);
        if (bits !== null && Number.isNaN(bits)) return undefined;
        out.clientMaxWindowBits = bits;
        break;
      }
      default:
        return undefined;
    }
  }
  return out;
}

/**
 * Server side of RFC 7692 §7.1: accepts the first permessage-deflate offer it
 * can honour and returns the parameters and the response element, or
 * undefined to decline them all.
 */
export function acceptDeflateOffer(
  offers: ExtensionOffer[],
  options: PerMessageDeflateOptions,
): { params: DeflateParams; response: ExtensionOffer } | undefined {
  for (const offer of offers) {
    if (offer.name !== EXTENSION_NAME) continue;
    const o = readParams(offer);
    if (o === undefined) continue;

    const ourServerBits = options.serverMaxWindowBits ?? 15;
    const serverBits = Math.min(ourServerBits, o.serverMaxWindowBits ?? 15);
    if (serverBits < MIN_DEFLATE_WINDOW_BITS) continue;

    let clientBits = 15;
    let sendClientBits = false;
    if (o.clientMaxWindowBits !== undefined) {
      // The client said it can honour a limit; we may set one (never above its own).
      const limit = Math.min(options.clientMaxWindowBits ?? 15, o.clientMaxWindowBits ?? 15);
      if (options.clientMaxWindowBits !== undefined || o.clientMaxWindowBits !== null) {
        clientBits = limit;
        sendClientBits = options.clientMaxWindowBits !== undefined;
      }
    }

    const params: DeflateParams = {
      serverNoContextTakeover: o.serverNoContextTakeover || options.serverNoContextTakeover === true,
      clientNoContextTakeover: o.clientNoContextTakeover || options.clientNoContextTakeover === true,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const response: ExtensionOffer = { name: EXTENSION_NAME, params: [] };
    if (params.serverNoContextTakeover) response.params.push(['server_no_context_takeover', true]);
    if (params.clientNoContextTakeover) response.params.push(['client_no_context_takeover', true]);
    if (o.serverMaxWindowBits !== undefined || serverBits < 15) {
      response.params.push(['server_max_window_bits', String(serverBits)]);
    }
    if (sendClientBits) response.params.push(['client_max_window_bits', String(clientBits)]);
    return { params, response };
  }
  return undefined;
}

/** The offer a client sends for `options` (RFC 7692 §7.1). */
export function buildDeflateOffer(options: PerMessageDeflateOptions): ExtensionOffer {
  const offer: ExtensionOffer = { name: EXTENSION_NAME, params: [] };
  if (options.serverNoContextTakeover) offer.params.push(['server_no_context_takeover', true]);
  if (options.clientNoContextTakeover) offer.params.push(['client_no_context_takeover', true]);
  if (options.serverMaxWindowBits !== undefined) {
    offer.params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
  }
  // We can always honour a window limit the server sets (down to 9).
  offer.params.push([
    'client_max_window_bits',
    options.clientMaxWindowBits !== undefined ? String(options.clientMaxWindowBits) : true,
  ]);
  return offer;
}

/**
 * Client side: checks the server's response element against what we offered
 * (RFC 7692 §7.1). Returns the agreed parameters or a reason to fail.
 */
export function acceptDeflateResponse(
  response: ExtensionOffer,
  offered: PerMessageDeflateOptions,
): DeflateParams | string {
  const r = readParams(response);
  if (r === undefined) return 'the server sent invalid permessage-deflate parameters';
  if (r.clientMaxWindowBits === null) return 'client_max_window_bits in a response needs a value';
  if (offered.serverNoContextTakeover && !r.serverNoContextTakeover) {
    return 'the server did not accept server_no_context_takeover';
  }
  if (offered.serverMaxWindowBits !== undefined) {
    if (r.serverMaxWindowBits === undefined || r.serverMaxWindowBits > offered.serverMaxWindowBits) {
      return 'the server did not honour server_max_window_bits';
    }
  }
  const clientBits = r.clientMaxWindowBits ?? offered.clientMaxWindowBits ?? 15;
  if (offered.clientMaxWindowBits !== undefined && clientBits > offered.clientMaxWindowBits) {
    return 'client_max_window_bits exceeds what was offered';
  }
  if (clientBits < MIN_DEFLATE_WINDOW_BITS) return 'client_max_window_bits=8 cannot be honoured';
  return {
    serverNoContextTakeover: r.serverNoContextTakeover,
    clientNoContextTakeover: r.clientNoContextTakeover || offered.clientNoContextTakeover === true,
    serverMaxWindowBits: r.serverMaxWindowBits ?? 15,
    clientMaxWindowBits: clientBits,
  };
}

/**
 * Bounds how many zlib jobs run at once across the process. zlib work runs on
 * libuv's small thread pool and each job holds native buffers; thousands of
 * connections compressing at once would queue there anyway while fragmenting
 * memory (the reason `ws` added its limiter, nodejs/node#8871).
 */
class JobLimiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly concurrency: number) {}
  run(job: (done: () => void) => void): void {
    if (this.running < this.concurrency) {
      this.running++;
      job(this.done);
    } else {
      this.queue.push(() => job(this.done));
    }
  }
  private readonly done = (): void => {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  };
}

const limiter = new JobLimiter(10);

type Callback = (err: Error | null, data?: Buffer) => void;

const ignore = (): void => {};

/**
 * The data path of an agreed permessage-deflate: compresses outgoing and
 * inflates incoming messages, one zlib stream each, created when first used.
 */
export class PerMessageDeflate {
  private deflate: zlib.DeflateRaw | undefined;
  private inflate: zlib.InflateRaw | undefined;
  private readonly ownNoContextTakeover: boolean;
  private readonly ownWindowBits: number;
  private readonly peerNoContextTakeover: boolean;
  readonly threshold: number;
  private closed = false;

  constructor(
    readonly params: DeflateParams,
    role: 'server' | 'client',
    private readonly maxPayload: number,
    private readonly options: PerMessageDeflateOptions = {},
  ) {
    const server = role === 'server';
    this.ownNoContextTakeover = server ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    this.ownWindowBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    this.peerNoContextTakeover = server ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.threshold = options.threshold ?? 1024;
  }

  /** Compresses one whole message (RFC 7692 §7.2.1). */
  compress(data: Buffer, callback: Callback): void {
    this.job(callback, (done) => {
      if (this.deflate === undefined) {
        this.deflate = zlib.createDeflateRaw({
          level: this.options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION,
          memLevel: this.options.memLevel ?? 8,
          windowBits: this.ownWindowBits,
        });
      }
      const deflate = this.deflate;
      const chunks: Buffer[] = [];
      let length = 0;
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
      };
      deflate.on('data', onData);
      deflate.write(data);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        deflate.removeListener('data', onData);
        done();
        if (this.closed) return callback(new Error('the connection closed'));
        let out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
        // A sync flush ends in 00 00 ff ff, which the sender removes (§7.2.1).
        out = out.subarray(0, out.length - 4);
        if (this.ownNoContextTakeover) deflate.reset();
        callback(null, out);
      });
    });
  }

  /**
   * Inflates one whole message (RFC 7692 §7.2.2), failing with 1009 as soon as
   * the output passes `maxPayload`, so a small bomb cannot allocate a big buffer.
   */
  decompress(data: Buffer, callback: Callback): void {
    this.job(callback, (done) => {
      if (this.inflate === undefined) {
        // A 15-bit window can inflate any stream a smaller window produced.
        this.inflate = zlib.createInflateRaw({ windowBits: 15 });
      }
      const inflate = this.inflate;
      const chunks: Buffer[] = [];
      let length = 0;
      let failure: ProtocolError | undefined;
      const onData = (chunk: Buffer) => {
        if (failure) return;
        length += chunk.length;
        if (length > this.maxPayload) {
          failure = new ProtocolError(
            ProtocolErrorCode.MessageTooBig,
            CloseCode.MessageTooBig,
            `the inflated message exceeds the limit of ${this.maxPayload} bytes`,
          );
          chunks.length = 0;
          // Stop now rather than inflate the rest of a bomb only to discard it.
          finish();
          return;
        }
        chunks.push(chunk);
      };
      const onError = (err: Error) => {
        if (!failure) {
          failure = new ProtocolError(
            ProtocolErrorCode.InvalidCompressedData,
            CloseCode.InvalidPayload,
            `invalid compressed data: ${err.message}`,
          );
        }
        finish();
      };
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        inflate.removeListener('data', onData);
        inflate.removeListener('error', onError);
        done();
        if (failure) {
          // A stream closed mid-flush may still report an error: it must not go unheard.
          inflate.on('error', ignore);
          // The stream's state is unknown after an error or an early stop.
          this.inflate = undefined;
          inflate.close();
          return callback(failure);
        }
        if (this.peerNoContextTakeover) inflate.reset();
        callback(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
      };
      inflate.on('data', onData);
      inflate.on('error', onError);
      inflate.write(data);
      inflate.write(DEFLATE_TRAILER);
      inflate.flush(finish);
    });
  }

  /** Runs `work` in a limiter slot, unless the connection closed while it waited for one. */
  private job(callback: Callback, work: (done: () => void) => void): void {
    limiter.run((jobDone) => {
      const done = this.hold(jobDone);
      if (this.closed) {
        done();
        callback(new Error('the connection closed'));
        return;
      }
      work(done);
    });
  }

  /** Limiter slots held by jobs in flight, released once even if a stream is closed under them. */
  private readonly held = new Set<() => void>();

  private hold(jobDone: () => void): () => void {
    const release = () => {
      if (!this.held.delete(release)) return;
      jobDone();
    };
    this.held.add(release);
    return release;
  }

  /** Frees the zlib streams; jobs in flight give up their limiter slots. */
  close(): void {
    this.closed = true;
    for (const release of [...this.held]) release();
    this.deflate?.close();
    this.inflate?.close();
    this.deflate = undefined;
    this.inflate = undefined;
  }
}
