/**
 * The ports the attachments domain (attachments.ts) is handed for bytes: where
 * files live and what they are. Implemented outside chat/ (files/), so the
 * domain never opens a file itself and runs on fakes in a unit test.
 */

/** An upload being received: its bytes in a temporary place until kept or discarded. */
export interface ReceivedFile {
  /** The store's name for the temporary copy. */
  readonly handle: string;
  readonly size: number;
}

/** `receive` stopped: the body passed `maxBytes`. Nothing of it is left behind. */
export class FileTooLargeError extends Error {
  override name = 'FileTooLargeError';
}

/** A kept file opened for reading. */
export interface StoredFile {
  readonly size: number;
  /** Bytes `start` to `end` inclusive (HTTP's convention), as a stream the transport sends on. */
  read(start: number, end: number): NodeJS.ReadableStream;
}

export interface FileStore {
  /**
   * Copies `body` into a temporary file, at most `maxBytes` of it:
   * `FileTooLargeError` beyond. On any failure (too large, the body broke
   * off) the partial copy is removed before the promise rejects.
   */
  receive(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<ReceivedFile>;
  /** Stores bytes made here (a thumbnail) as a temporary file. */
  receiveBytes(bytes: Uint8Array): Promise<ReceivedFile>;
  /** Makes a temporary file the kept file `key` (a rename where it can). */
  keep(handle: string, key: string): Promise<void>;
  /** Removes a temporary file; none there is no error. */
  discard(handle: string): Promise<void>;
  /** A kept file, or undefined. */
  open(key: string): Promise<StoredFile | undefined>;
  /** Removes kept files; missing ones are no error. */
  remove(keys: readonly string[]): Promise<void>;
  /** The kept keys last written before `before` (epoch ms), for the sweep of files no row owns. */
  keys(before: number): AsyncIterable<string>;
  /** Removes temporary files older than `before` (left by a process that died mid-upload); how many. */
  removeStaleTemporaries(before: number): Promise<number>;
}

/** What sniffing a file's bytes found. */
export interface Sniffed {
  /** A MIME type, or null when the bytes match no format known. */
  contentType: string | null;
  /** For the raster images the probe decodes: its size, read from the header only (nothing is decoded). */
  image: { width: number; height: number } | null;
}

export interface FileProbe {
  sniff(handle: string): Promise<Sniffed>;
  /**
   * A thumbnail (WebP, at most `side` pixels each way) of an image already
   * sniffed and found within the pixel limit; rejects if it does not decode.
   */
  thumbnail(handle: string, side: number): Promise<Uint8Array>;
}

/**
 * The store of a chat service handed none (the domain's unit tests on fakes):
 * it holds nothing, and an upload into it fails.
 */
export const NO_FILES: { store: FileStore; probe: FileProbe } = {
  store: {
    receive: () => Promise.reject(new Error('this chat service has no file store')),
    receiveBytes: () => Promise.reject(new Error('this chat service has no file store')),
    keep: () => Promise.reject(new Error('this chat service has no file store')),
    discard: async () => {},
    open: async () => undefined,
    remove: async () => {},
    keys: async function* () {},
    removeStaleTemporaries: async () => 0,
  },
  probe: {
    sniff: async () => ({ contentType: null, image: null }),
    thumbnail: () => Promise.reject(new Error('this chat service has no file store')),
  },
};
