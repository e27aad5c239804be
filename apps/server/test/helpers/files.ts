import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { TestServer } from './build.js';

/** A real PNG of `width` × `height` (sharp makes it). */
export const png = (width = 64, height = 48): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#3366cc' } }).png().toBuffer();

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A decompression bomb: a valid PNG header declaring `width` × `height`
 * pixels (RGB, 8 bits), with a few bytes of image data — tiny on disk,
 * 7.5 GB once decoded at 50000 × 50000.
 */
export function pngBomb(width = 50_000, height = 50_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A zip whose one member inflates from a few kB to 100 MB (stored as a zip: we never inflate it). */
export function zipBomb(): Buffer {
  const inflated = 100 * 1024 * 1024;
  const data = deflateSync(Buffer.alloc(1024 * 1024), { level: 9 });
  // One deflated MiB of zeros, claimed 100 times larger: the header is what a naive unzipper trusts.
  const name = Buffer.from('zeros.bin');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(inflated, 22);
  local.writeUInt16LE(name.length, 26);
  return Buffer.concat([local, name, data]);
}

/** POSTs one file as multipart/form-data (what a browser's FormData sends). */
export async function upload(
  server: TestServer,
  token: string,
  room: string,
  bytes: Buffer | Uint8Array,
  name: string,
  type = 'application/octet-stream',
): Promise<{ status: number; body: any; headers: Headers }> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const res = await fetch(`${server.url}/api/rooms/${room}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** A multipart body by hand, with the boundary it uses. */
export function multipartBody(name: string, bytes: Buffer, boundary = 'test-boundary-7f3a'): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/**
 * Sends a request's head and `body` over a raw socket, then either half-closes
 * (`end`: the server sees the body end early), waits (`wait`: for the
 * answer to a body sent whole) or destroys the socket (`abandon`: the client
 * is gone half-way). Resolves with whatever answer
 * arrived (possibly none).
 */
export function rawUpload(server: TestServer, token: string, room: string, head: { contentLength: number; boundary?: string }, body: Buffer, how: 'end' | 'wait' | 'abandon'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      // 'wait': the answer is in once its JSON body has arrived.
      if (how === 'wait' && /\r\n\r\n\{.*\}$/s.test(answer)) socket.destroy();
    });
    socket.on('error', (err) => (how === 'abandon' ? resolve(answer) : reject(err)));
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => {
      socket.write(
        `POST /api/rooms/${room}/files HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: multipart/form-data; boundary=${head.boundary ?? 'test-boundary-7f3a'}\r\nContent-Length: ${head.contentLength}\r\n\r\n`,
      );
      socket.write(body, () => {
        if (how === 'end') socket.end();
        else if (how === 'abandon') setTimeout(() => socket.destroy(), 50);
      });
    });
  });
}

/** Every file under the server's upload directory (temporary ones included), relative names. */
export async function filesOnDisk(server: TestServer): Promise<string[]> {
  const root = path.join(path.dirname(server.databasePath), 'files');
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(path.relative(root, full));
    }
  };
  await walk(root);
  return out.sort();
}
