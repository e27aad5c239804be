/**
 * The directory file store on a real directory: a body that fails leaves no
 * temporary file, however early it fails.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTooLargeError } from '../src/chat/file-store.js';
import { openDirectoryStore } from '../src/files/directory-store.js';
import { tempDir } from './helpers/build.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => dir.remove());

async function* failingAfter(chunks: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < chunks; i++) yield Buffer.alloc(1000, i);
  throw new Error('the client went away');
}

describe('receiving a file into the directory store', () => {
  it('keeps nothing of a body that fails, even before its file is opened', async () => {
    const store = await openDirectoryStore(dir.path);
    // Several at once, failing at once or after some bytes: the open of the temporary races the failure.
    const attempts = Array.from({ length: 40 }, (_, i) => store.receive(failingAfter(i % 4), 1_000_000));
    const outcomes = await Promise.allSettled(attempts);
    expect(outcomes.every((o) => o.status === 'rejected' && /went away/.test(String(o.reason)))).toBe(true);
    expect(await readdir(path.join(dir.path, 'tmp'))).toEqual([]);
  });

  it('stops at the first byte over the limit and keeps nothing', async () => {
    const store = await openDirectoryStore(dir.path);
    async function* big() {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(1000);
    }
    await expect(store.receive(big(), 4500)).rejects.toBeInstanceOf(FileTooLargeError);
    expect(await readdir(path.join(dir.path, 'tmp'))).toEqual([]);
  });

  it('keeps a whole body under its handle', async () => {
    const store = await openDirectoryStore(dir.path);
    async function* body() {
      yield Buffer.from('hello ');
      yield Buffer.from('world');
    }
    const received = await store.receive(body(), 100);
    expect(received.size).toBe(11);
    expect(await readdir(path.join(dir.path, 'tmp'))).toEqual([received.handle]);
  });
});
