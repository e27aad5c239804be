import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileTooLargeError, type FileStore, type ReceivedFile, type StoredFile } from '../chat/file-store.js';

/** A kept key: an upload's id (base64url), with `.thumbnail` for its thumbnail. Anything else is never a path we make. */
const KEY = /^[A-Za-z0-9_-]{22}(\.thumbnail)?$/;
const TEMPORARY = /^[0-9a-f]{32}\.part$/;

/**
 * Files in a directory: the default store, and the one a cluster shares when
 * every node mounts the same directory (a volume, NFS). Kept files live at
 * `<root>/<first two characters of the key>/<key>` (so no one directory
 * holds them all); uploads arrive in `<root>/tmp/` on the same file system
 * and are renamed into place, so a kept file is always whole.
 */
export async function openDirectoryStore(
  root: string,
): Promise<FileStore & { readonly root: string; temporaryPath(handle: string): string }> {
  const tmp = path.join(root, 'tmp');
  await fs.mkdir(tmp, { recursive: true });
  const temporary = (handle: string) => {
    if (!TEMPORARY.test(handle)) throw new Error(`not a temporary file: ${handle}`);
    return path.join(tmp, handle);
  };
  const kept = (key: string) => {
    if (!KEY.test(key)) throw new Error(`not a file key: ${key}`);
    return path.join(root, key.slice(0, 2), key);
  };
  const newTemporary = () => `${randomBytes(16).toString('hex')}.part`;
  const unlinkQuietly = async (file: string) => {
    try {
      await fs.unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };

  return {
    root,
    temporaryPath: temporary,
    async receive(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<ReceivedFile> {
      const handle = newTemporary();
      const file = temporary(handle);
      let size = 0;
      // Counted as it streams: the copy stops at the first byte over the limit, never after the whole body.
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > maxBytes) done(new FileTooLargeError(`more than ${maxBytes} bytes`));
          else done(null, chunk);
        },
      });
      const writer = createWriteStream(file, { flags: 'wx' });
      try {
        await pipeline(body, limit, writer);
        return { handle, size };
      } catch (err) {
        // A body that fails at once can reject the pipeline before the file is even opened (the open is
        // asynchronous): unlinking then would run first, and the open would leave the file behind.
        if (!writer.closed) await new Promise<void>((closed) => writer.once('close', () => closed()));
        await unlinkQuietly(file);
        throw err;
      }
    },
    async receiveBytes(bytes: Uint8Array): Promise<ReceivedFile> {
      const handle = newTemporary();
      await fs.writeFile(temporary(handle), bytes, { flag: 'wx' });
      return { handle, size: bytes.length };
    },
    async keep(handle: string, key: string): Promise<void> {
      const target = kept(key);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(temporary(handle), target);
    },
    discard: (handle: string) => unlinkQuietly(temporary(handle)),
    async open(key: string): Promise<StoredFile | undefined> {
      const file = kept(key);
      let size: number;
      try {
        size = (await fs.stat(file)).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      return { size, read: (start, end) => createReadStream(file, { start, end }) };
    },
    async remove(keys: readonly string[]): Promise<void> {
      await Promise.all(keys.map((key) => unlinkQuietly(kept(key))));
    },
    async *keys(before: number): AsyncIterable<string> {
      for (const shard of await fs.readdir(root)) {
        if (shard === 'tmp' || !/^[A-Za-z0-9_-]{2}$/.test(shard)) continue;
        for (const name of await fs.readdir(path.join(root, shard))) {
          if (!KEY.test(name)) continue;
          const stat = await fs.stat(path.join(root, shard, name)).catch(() => undefined);
          if (stat && stat.mtimeMs < before) yield name;
        }
      }
    },
    async removeStaleTemporaries(before: number): Promise<number> {
      let removed = 0;
      for (const name of await fs.readdir(tmp)) {
        if (!TEMPORARY.test(name)) continue;
        const stat = await fs.stat(path.join(tmp, name)).catch(() => undefined);
        if (stat && stat.mtimeMs < before) {
          await unlinkQuietly(path.join(tmp, name));
          removed++;
        }
      }
      return removed;
    },
  };
}
