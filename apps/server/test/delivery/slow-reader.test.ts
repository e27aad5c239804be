import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  Streamer,
  createCleanup,
  createRoom,
  guest,
  killAtCleanup,
  rssBytes,
  startServer,
  tcpQueues,
  tempDir,
  until,
  within,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

const ROOM = 'flood';
const MAX_BUFFERED = 262_144;
/** The flood's bound: this many messages of about 1 KiB, unless the slow reader is cut off first. */
const FLOOD_MESSAGES = 20_000;
/** One flood message on the wire: 1000 characters of filler plus the JSON envelope. */
const FRAME_BYTES = 1150;
/**
 * The server's resident memory must stay under this during the flood. It
 * holds a baseline of about 100 MB (Node, Fastify, SQLite's cache) plus at
 * most WS_MAX_BUFFERED_BYTES per connection; a backlog that grew without
 * bound would add the whole flood (over 20 MB) per slow reader.
 */
const RSS_BOUND = 300 * 1024 * 1024;

/**
 * Bytes held by the kernel on the busiest client connection to `serverPort`:
 * the client socket's unread receive queue plus the server socket's unacked
 * send queue (the slow reader's, since the others read as fast as they can).
 */
function kernelBytesTowards(serverPort: number): number {
  const sockets = tcpQueues();
  let most = 0;
  for (const client of sockets) {
    if (client.remotePort !== serverPort) continue;
    const serverSide = sockets.find((s) => s.localPort === serverPort && s.remotePort === client.localPort);
    most = Math.max(most, client.rxQueue + (serverSide?.txQueue ?? 0));
  }
  return most;
}

interface Flood {
  server: ServerProcess;
  slow: ChatSocket;
  normal: ChatSocket;
  sender: ChatSocket;
  /** The highest seq the normal reader has seen; it checks order as messages arrive. */
  normalSeq(): number;
  outOfOrder: string[];
  /** The normal reader's seq when it heard the slow reader go offline (the server dropped it). */
  slowGoneAt(): number | undefined;
  maxRss(): number;
}

/** A server with WS_MAX_BUFFERED_BYTES small, and a slow reader, a normal reader and a sender in one room. */
async function setUp(compression = false): Promise<Flood> {
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  const server = killAtCleanup(
    cleanup,
    await startServer({
      databasePath: path.join(dir.path, 'chat.db'),
      env: {
        WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
        RATE_MESSAGES_PER_SECOND: '1000000',
        WS_COMPRESSION: String(compression),
      },
    }),
  );
  await createRoom(server.url, ROOM);
  const open = async (prefix: string) => {
    const account = await guest(server.url, prefix);
    const socket = await ChatSocket.open(server.wsUrl, account, {}, compression ? { perMessageDeflate: true } : {});
    if (compression) expect(socket.connection.extensions).toContain('permessage-deflate');
    cleanup.add(() => socket.connection.terminate());
    await socket.join(ROOM);
    return socket;
  };
  const slow = await open('slow');
  const normal = await open('normal');
  const sender = await open('sender');
  // Twenty megabytes of messages are checked as they pass, not kept.
  normal.keep = false;
  sender.keep = false;

  let maxRss = rssBytes(server.pid) ?? 0;
  const sample = () => {
    maxRss = Math.max(maxRss, rssBytes(server.pid) ?? 0);
  };
  const sampler = setInterval(sample, 25);
  cleanup.add(() => clearInterval(sampler));

  let lastSeq = 0;
  let goneAt: number | undefined;
  const outOfOrder: string[] = [];
  normal.onMessage((m) => {
    if (m.type === 'message') {
      if (m.seq !== lastSeq + 1) outOfOrder.push(`${lastSeq} → ${m.seq}`);
      lastSeq = m.seq;
    } else if (m.type === 'presence' && m.user === slow.name && m.state === 'offline') {
      goneAt ??= lastSeq;
    }
  });
  slow.connection.pause();
  return {
    server,
    slow,
    normal,
    sender,
    normalSeq: () => lastSeq,
    outOfOrder,
    slowGoneAt: () => goneAt,
    maxRss: () => {
      sample();
      return maxRss;
    },
  };
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

describe('a reader that stops reading', () => {
  it('is cut off with close 1013, which it reads once it resumes, while a normal reader gets every message in order', async () => {
    const f = await setUp();
    const flood = new Streamer(f.sender, ROOM, 'f', 50, FLOOD_MESSAGES, 1000).start();
    // The server cuts the slow reader off once the kernel's buffers between
    // the two are full and its own backlog passes WS_MAX_BUFFERED_BYTES. The
    // close frame waits behind that backlog, and the server drops the socket
    // 5 s (its close timeout) later: to read the 1013 the reader must resume
    // before then. So the flood stops soon after the kernel's share stops
    // growing — once four times WS_MAX_BUFFERED_BYTES more were broadcast,
    // the cut-off has happened.
    let plateau = 0;
    let plateauSeq = 0;
    let kernelFullAt: number | undefined;
    await until(
      'the flood to end or the slow reader to be cut off',
      () => {
        const k = kernelBytesTowards(f.server.port);
        if (k > plateau + 4096) {
          plateau = k;
          plateauSeq = f.normalSeq();
        }
        if (plateau > 0 && (f.normalSeq() - plateauSeq) * FRAME_BYTES > 4 * MAX_BUFFERED) kernelFullAt = plateauSeq;
        return flood.done || f.slowGoneAt() !== undefined || kernelFullAt !== undefined;
      },
      120_000,
      5,
    );
    flood.stop();
    await until('the last acks', () => flood.done, 30_000, 10);
    flood.detach();
    const sent = flood.acked.size;

    f.slow.connection.resume();
    const closed = await within('the slow reader to see its connection end', f.slow.closed, 30_000);
    const maxRss = f.maxRss();
    console.log(
      `[slow-reader] kernel buffers towards the slow reader full at ${plateau} bytes (seq ${kernelFullAt ?? '?'}); ` +
        `${sent} messages of ~1 KiB sent; the slow reader read ${f.slow.received.filter((m) => m.type === 'message').length} ` +
        `then close ${closed.code}; server max RSS ${mb(maxRss)}`,
    );

    expect(flood.errors).toEqual([]);
    await until(`the normal reader to reach seq ${sent}`, () => f.normalSeq() >= sent, 30_000);
    expect(f.outOfOrder).toEqual([]);
    expect(f.normalSeq()).toBe(sent);
    expect(f.normal.open).toBe(true);
    expect(closed.code).toBe(1013);
    // What it did read was in order, with no gap.
    const seqs = f.slow.received.filter((m) => m.type === 'message').map((m) => m.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(maxRss).toBeLessThan(RSS_BOUND);
  }, 180_000);

  it('is dropped by the server even if it never reads again, and the server memory stays bounded', async () => {
    const f = await setUp();
    const flood = new Streamer(f.sender, ROOM, 'f', 50, FLOOD_MESSAGES, 1000).start();
    await until('the flood to end or the slow reader to be dropped', () => flood.done || f.slowGoneAt() !== undefined, 120_000, 10);
    flood.stop();
    await until('the last acks', () => flood.done, 30_000, 10);
    flood.detach();
    const sent = flood.acked.size;
    // Dropped after its close timeout (5 s) at the latest, if the flood ended first.
    await until('the others to hear the slow reader go offline', () => f.slowGoneAt() !== undefined, 15_000, 20);
    const maxRss = f.maxRss();
    console.log(
      `[slow-reader] never resumed: dropped at seq ${f.slowGoneAt()} of ${sent} sent; server max RSS ${mb(maxRss)}`,
    );

    expect(flood.errors).toEqual([]);
    await until(`the normal reader to reach seq ${sent}`, () => f.normalSeq() >= sent, 30_000);
    expect(f.outOfOrder).toEqual([]);
    expect(f.normalSeq()).toBe(sent);
    expect(maxRss).toBeLessThan(RSS_BOUND);
    f.slow.connection.resume();
    await within('the slow reader to see its connection end', f.slow.closed, 30_000);
  }, 180_000);

  it('is dropped with permessage-deflate on too, and the server memory stays bounded', async () => {
    const f = await setUp(true);
    // Random text: compression must not shrink the flood into the kernel's buffers.
    const flood = new Streamer(f.sender, ROOM, 'f', 50, FLOOD_MESSAGES, 1000, 'random').start();
    await until('the flood to end or the slow reader to be dropped', () => flood.done || f.slowGoneAt() !== undefined, 120_000, 10);
    flood.stop();
    await until('the last acks', () => flood.done, 30_000, 10);
    flood.detach();
    const sent = flood.acked.size;
    await until('the others to hear the slow reader go offline', () => f.slowGoneAt() !== undefined, 15_000, 20);
    const maxRss = f.maxRss();
    console.log(`[slow-reader] deflate: dropped at seq ${f.slowGoneAt()} of ${sent} sent; server max RSS ${mb(maxRss)}`);

    expect(flood.errors).toEqual([]);
    await until(`the normal reader to reach seq ${sent}`, () => f.normalSeq() >= sent, 30_000);
    expect(f.outOfOrder).toEqual([]);
    expect(f.normalSeq()).toBe(sent);
    expect(maxRss).toBeLessThan(RSS_BOUND);
  }, 180_000);
});
