import { DomainError } from '../domain-error.js';
import type { AttachmentInfo, AttachmentRecord, ChatStore } from '../storage/store.js';
import { authorize, standingOf } from './access.js';
import { FileTooLargeError, type FileProbe, type FileStore, type ReceivedFile, type StoredFile } from './file-store.js';

export interface AttachmentLimits {
  /** One file's bytes (MAX_UPLOAD_BYTES). */
  maxFileBytes: number;
  /** All of one user's recorded uploads together (MAX_UPLOAD_BYTES_PER_USER). */
  maxUserBytes: number;
  /** Files one message may carry (MAX_ATTACHMENTS_PER_MESSAGE). */
  maxPerMessage: number;
  /** An image's width × height (MAX_IMAGE_PIXELS): a decompression bomb is refused before anything is decoded. */
  maxImagePixels: number;
  /** An upload no message carries after this long is deleted (UPLOAD_UNATTACHED_TTL_MS). */
  unattachedTtlMs: number;
}

export interface Upload {
  /** The name the client gave. */
  name: string;
  /** The type the client claimed (never trusted; see `checkClaim`). */
  claimedType: string | undefined;
  body: AsyncIterable<Uint8Array>;
}

/** A file to send: its record, whether a browser may show it inline, and its bytes. */
export interface Download {
  record: AttachmentRecord;
  /** The type to answer with (the sniffed one; the thumbnail's is WebP). */
  contentType: string;
  inline: boolean;
  file: StoredFile;
}

/** The raster formats the probe measures and thumbnails, and the only types ever served inline. */
export const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);
/** What a name's extension claims, for the formats above. */
const IMAGE_EXTENSIONS: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
};
export const THUMBNAIL_SIDE = 320;
const THUMBNAIL = '.thumbnail';
const UNKNOWN_TYPE = 'application/octet-stream';
const MAX_NAME_BYTES = 255;
/** 128 random bits: an id (and so a URL) cannot be guessed. */
const ID_BYTES = 16;

/**
 * Files on messages: the rules of uploading (who, how large, which names,
 * what the bytes really are), of attaching (only your own upload, in its
 * room, once), of fetching (members of the room only; anyone else is told
 * nothing exists) and of cleaning up (a deleted message's or room's files,
 * uploads never sent, files no row owns). It is handed the store and two
 * ports (file-store.ts); the HTTP side is routes/file-routes.ts.
 */
/** A send holding uploads until its commit: whose it is (author and clientMsgId), and when it is done. */
interface PendingSend {
  key: string;
  settled: Promise<void>;
  settle: () => void;
}

export class Attachments {
  /**
   * Uploads named by a send that is not committed yet, with that send: a
   * second send of one of them is refused at once, unless it is the same
   * send again (its author and clientMsgId), which waits for the first.
   */
  private readonly sending = new Map<string, PendingSend>();

  constructor(
    private readonly store: ChatStore,
    private readonly ports: { files: FileStore; probe: FileProbe },
    readonly limits: AttachmentLimits,
  ) {}

  /** Checked before the body is read: a stranger's or an over-quota upload costs no bytes. */
  async mayUpload(userId: number, roomId: string): Promise<void> {
    await this.canSend(userId, roomId);
    if ((await this.store.uploadedBytes(userId)) >= this.limits.maxUserBytes) throw overQuota(this.limits.maxUserBytes);
  }

  /**
   * Receives, checks and records one file: 201's body. Whatever is refused,
   * and whenever the body breaks off, nothing stays on disk.
   */
  async upload(userId: number, roomId: string, upload: Upload): Promise<AttachmentRecord> {
    const name = checkName(upload.name);
    await this.canSend(userId, roomId);
    const room = Math.max(0, this.limits.maxUserBytes - (await this.store.uploadedBytes(userId)));
    if (room === 0) throw overQuota(this.limits.maxUserBytes);
    const max = Math.min(this.limits.maxFileBytes, room);
    const { files, probe } = this.ports;
    let received: ReceivedFile;
    try {
      received = await files.receive(upload.body, max);
    } catch (err) {
      if (!(err instanceof FileTooLargeError)) throw err;
      throw max < this.limits.maxFileBytes ? overQuota(this.limits.maxUserBytes) : tooLarge(this.limits.maxFileBytes);
    }
    const temporaries = [received.handle];
    const id = randomId();
    let kept = false;
    try {
      const sniffed = await probe.sniff(received.handle);
      const contentType = sniffed.contentType ?? UNKNOWN_TYPE;
      checkClaim(name, upload.claimedType, contentType);
      const image = IMAGE_TYPES.has(contentType) ? sniffed.image : null;
      if (image && image.width * image.height > this.limits.maxImagePixels) {
        throw new DomainError(
          'too_large',
          `the image is ${image.width}×${image.height} pixels; at most ${this.limits.maxImagePixels} pixels are accepted`,
        );
      }
      let thumbnail: string | undefined;
      if (image) {
        const bytes = await probe.thumbnail(received.handle, THUMBNAIL_SIDE).catch(() => {
          throw new DomainError('invalid_request', 'the image cannot be decoded');
        });
        thumbnail = (await files.receiveBytes(bytes)).handle;
        temporaries.push(thumbnail);
      }
      const record: AttachmentRecord = {
        id,
        roomId,
        uploaderId: userId,
        messageId: null,
        name,
        size: received.size,
        contentType,
        width: image?.width ?? null,
        height: image?.height ?? null,
        thumbnail: thumbnail !== undefined,
        createdAt: Date.now(),
      };
      // Kept before the row exists: a crash between the two leaves a file no row owns, which the sweep removes;
      // the other order would leave a row whose file is missing.
      if (thumbnail) await files.keep(thumbnail, id + THUMBNAIL);
      await files.keep(received.handle, id);
      kept = true;
      const outcome = await this.store.createAttachment(record, this.limits.maxUserBytes);
      if (outcome === 'over_quota') throw overQuota(this.limits.maxUserBytes);
      if (outcome === 'room_gone') throw new DomainError('not_found', `no room ${roomId}`);
      kept = false;
      return record;
    } catch (err) {
      await Promise.all(temporaries.map((h) => files.discard(h)));
      if (kept) await files.remove([id, id + THUMBNAIL]);
      throw err;
    }
  }

  /**
   * The files a send names, checked: at most maxPerMessage, each an upload
   * of the sender's in this room that no message carries yet (anything
   * else — someone else's, another room's, an unknown id — is not_found,
   * telling nothing of other people's uploads). Held until `release`.
   *
   * `resent` when a file is already on the sender's own message with this
   * `clientMsgId`: the send repeats one whose ack was lost, and nothing is
   * claimed, so the store answers it as the duplicate it is, with the stored
   * message and its files.
   */
  async claim(
    userId: number,
    send: { roomId: string; clientMsgId: string },
    ids: readonly string[],
  ): Promise<{ files: AttachmentInfo[]; resent: false } | { resent: true }> {
    const { roomId } = send;
    if (ids.length > this.limits.maxPerMessage) {
      throw new DomainError('too_large', `a message carries at most ${this.limits.maxPerMessage} files (MAX_ATTACHMENTS_PER_MESSAGE); this one names ${ids.length}`);
    }
    if (new Set(ids).size !== ids.length) throw new DomainError('invalid_message', 'a file is named twice');
    const key = `${userId}\u0000${send.clientMsgId}`;
    const records = await Promise.all(ids.map((id) => this.store.getAttachment(id)));
    const found: AttachmentInfo[] = [];
    for (const [i, r] of records.entries()) {
      if (!r || r.uploaderId !== userId || r.roomId !== roomId) throw new DomainError('not_found', `no upload ${ids[i]} of yours in ${roomId}`);
      if (r.messageId !== null) {
        const carrier = await this.store.getMessage(roomId, r.messageId);
        if (carrier?.authorId === userId && carrier.clientMsgId === send.clientMsgId) return { resent: true };
      }
      const pending = this.sending.get(r.id);
      if (pending?.key === key && r.messageId === null) {
        // The same send again while the first is still being stored (a client
        // re-sending after a reconnect): once that one settles, this one is its
        // duplicate, or — if it failed — a send of free files.
        await pending.settled;
        return this.claim(userId, send, ids);
      }
      if (r.messageId !== null || pending) throw new DomainError('conflict', `upload ${r.id} is on a message already`);
      found.push({ id: r.id, name: r.name, size: r.size, contentType: r.contentType, width: r.width, height: r.height, thumbnail: r.thumbnail });
    }
    let settle = () => {};
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const pending: PendingSend = { key, settled, settle };
    for (const id of ids) this.sending.set(id, pending);
    return { files: found, resent: false };
  }

  /** The send that claimed them is committed (or failed). */
  release(files: readonly AttachmentInfo[]): void {
    for (const f of files) {
      const pending = this.sending.get(f.id);
      this.sending.delete(f.id);
      pending?.settle();
    }
  }

  /**
   * A file (or its thumbnail) for a member of its room. Anyone else — a
   * stranger, a banned user, a reader of a public room who has not joined —
   * gets not_found, as for a file that does not exist: its existence does not
   * leak. (Stricter than history on purpose: a file's URL travels further
   * than a room's membership, and it is the member's copy.)
   */
  async open(userId: number, roomId: string, fileId: string, variant: 'file' | 'thumbnail'): Promise<Download> {
    const missing = () => new DomainError('not_found', `no file ${fileId} in ${roomId}`);
    const [record, standing] = await Promise.all([this.store.getAttachment(fileId), this.store.memberStanding(roomId, userId)]);
    if (!record || record.roomId !== roomId || standingOf(standing.role, standing.banned).membership !== 'member') throw missing();
    if (variant === 'thumbnail' && !record.thumbnail) throw missing();
    const file = await this.ports.files.open(variant === 'thumbnail' ? fileId + THUMBNAIL : fileId);
    if (!file) throw missing();
    const contentType = variant === 'thumbnail' ? 'image/webp' : record.contentType;
    return { record, contentType, inline: IMAGE_TYPES.has(contentType), file };
  }

  /** Removes the files of rows just deleted (a message's, a room's). */
  async discard(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.ports.files.remove(ids.flatMap((id) => [id, id + THUMBNAIL]));
  }

  /**
   * The clean-up, run on a timer on every node (each step is idempotent):
   * uploads no message took within the TTL, temporary files of uploads that
   * died with their process, and kept files whose row is gone (a crash
   * between keeping a file and recording it, a deletion whose file removal
   * failed). Files younger than the TTL are left alone: their upload may
   * still be on its way to the database.
   */
  async sweep(now: number): Promise<{ unattached: number; temporaries: number; orphans: number }> {
    const before = now - this.limits.unattachedTtlMs;
    const unattached = await this.store.deleteUnattachedAttachments(before);
    await this.discard(unattached);
    const temporaries = await this.ports.files.removeStaleTemporaries(before);
    let orphans = 0;
    let chunk: string[] = [];
    const settle = async () => {
      const ids = [...new Set(chunk.map((k) => (k.endsWith(THUMBNAIL) ? k.slice(0, -THUMBNAIL.length) : k)))];
      const known = new Set(await this.store.knownAttachmentIds(ids));
      const gone = chunk.filter((k) => !known.has(k.endsWith(THUMBNAIL) ? k.slice(0, -THUMBNAIL.length) : k));
      await this.ports.files.remove(gone);
      orphans += gone.length;
      chunk = [];
    };
    for await (const key of this.ports.files.keys(before)) {
      chunk.push(key);
      if (chunk.length >= 500) await settle();
    }
    if (chunk.length > 0) await settle();
    return { unattached: unattached.length, temporaries, orphans };
  }

  private async canSend(userId: number, roomId: string): Promise<void> {
    const [room, standing] = await Promise.all([this.store.getRoom(roomId), this.store.memberStanding(roomId, userId)]);
    // As a send: a member, in a room that is not archived.
    authorize('send', standingOf(standing.role, standing.banned), roomId, room);
  }
}

/**
 * A name as given, or a refusal: never a path (no `/` or `\`, not `.` or
 * `..`) and no control or bidirectional-override characters (which would
 * disguise an extension, "gpj.exe" shown as "exe.jpg"). Refused rather than
 * cleaned, so what the uploader sees is what others download.
 */
export function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed === '.' || trimmed === '..') throw new DomainError('invalid_request', 'the file needs a name');
  if (/[/\\]/.test(trimmed)) throw new DomainError('invalid_request', 'a file name may not contain / or \\');
  if (/[\p{Cc}\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u.test(trimmed)) {
    throw new DomainError('invalid_request', 'a file name may not contain control characters');
  }
  if (Buffer.byteLength(trimmed) > MAX_NAME_BYTES) throw new DomainError('invalid_request', `a file name is at most ${MAX_NAME_BYTES} bytes`);
  return trimmed;
}

/**
 * A file that calls itself an image (by its type or its extension) must be
 * one of the images we decode: otherwise it is refused, so a zip (a zip
 * bomb, say) named `.png` never reaches a browser that trusts the name.
 * Any other file is taken for what its bytes say.
 */
function checkClaim(name: string, claimedType: string | undefined, sniffed: string): void {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  const byName = extension === undefined ? undefined : IMAGE_EXTENSIONS[extension];
  const byType = claimedType !== undefined && IMAGE_TYPES.has(claimedType.toLowerCase()) ? claimedType : undefined;
  const claim = byName ?? byType;
  if (claim !== undefined && !IMAGE_TYPES.has(sniffed)) {
    throw new DomainError('invalid_request', `the file claims to be ${claim} but its bytes are ${sniffed === UNKNOWN_TYPE ? 'no known format' : sniffed}`);
  }
}

const tooLarge = (max: number) => new DomainError('too_large', `a file is at most ${max} bytes`);
const overQuota = (max: number) => new DomainError('too_large', `your uploads may take at most ${max} bytes in all`);

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_BYTES));
  return Buffer.from(bytes).toString('base64url');
}
