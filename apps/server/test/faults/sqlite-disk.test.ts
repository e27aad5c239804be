/**
 * The SQLite disk: a database file found damaged at start-up stops the
 * server with a clear line and exit code 3 (never a silent empty database),
 * and a disk that fills up under traffic — a size-limited tmpfs made for the
 * test — refuses sends with a retryable error, loses nothing acked, keeps
 * reads working, and sends work again by themselves once there is room.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatSocket, createCleanup, createRoom, guest, http, killAtCleanup, readAllMessages, startServer, tempDir, within } from '../delivery/support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());
const ROOM = 'notes';
const SERVER_ENTRY = path.resolve(import.meta.dirname, '../../dist/server.js');

/** Runs the server on `file` and returns how it exited and what it said (it should not start). */
async function startRefused(file: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', DATABASE_PATH: file, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const code = await within('the server to refuse the file and exit', new Promise<number | null>((resolve) => child.once('exit', resolve)), 20_000).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return { code, output };
}

describe('a damaged database file at start-up', () => {
  it('is refused with a line that says what is wrong, exit code 3, and the file left as it was', async () => {
    const dir = await tempDir();
    cleanup.add(() => dir.remove());
    const file = path.join(dir.path, 'chat.db');
    // A real database with a few hundred messages, closed cleanly (its log copied back).
    const node = await startServer({ databasePath: file, env: { RATE_MESSAGES_PER_SECOND: '100000' } });
    await createRoom(node.url, ROOM);
    const account = await guest(node.url, 'writer');
    const socket = await ChatSocket.open(node.wsUrl, account);
    await socket.join(ROOM);
    for (let i = 0; i < 300; i++) socket.send({ type: 'send', room: ROOM, text: `line ${i} ${'x'.repeat(200)}`, clientMsgId: `l${i}` });
    await socket.waitFor('the last ack', (m) => m.type === 'message' && m.clientMsgId === 'l299', 20_000);
    await socket.close();
    expect((await node.stop()).code).toBe(0);
    const whole = fs.readFileSync(file);
    expect(whole.length).toBeGreaterThan(64 * 1024);

    const cases: Array<[string, Buffer, RegExp]> = [
      ['cut in half', whole.subarray(0, Math.floor(whole.length / 2)), /is cut short: \d+ bytes of the \d+ its header counts/],
      ['emptied', Buffer.alloc(0), /is empty \(0 bytes\)/],
      ['overwritten', Buffer.from('these are not the bytes of a database '.repeat(100)), /is not an SQLite database/],
      ['its first page scrambled', Buffer.concat([whole.subarray(0, 100), Buffer.alloc(4096 - 100, 0xab), whole.subarray(4096)]), /is damaged/],
    ];
    for (const [what, bytes, said] of cases) {
      const damaged = path.join(dir.path, `damaged-${what.replaceAll(' ', '-')}.db`);
      fs.writeFileSync(damaged, bytes);
      const { code, output } = await startRefused(damaged);
      expect(code, `${what}: ${output}`).toBe(3);
      expect(output, what).toMatch(said);
      expect(output, what).not.toMatch(/\n\s+at /); // one line, not a stack trace
      expect(fs.readFileSync(damaged).equals(bytes), `${what}: the file is left as it was`).toBe(true);
    }
  }, 60_000);
});

/** A tmpfs of `bytes` at a new directory, unmounted at cleanup; undefined where mounting is not allowed (not root). */
function smallDisk(bytes: number): string | undefined {
  const dir = fs.mkdtempSync('/tmp/chat-faults-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  cleanup.add(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const canMount = process.getuid?.() === 0;
if (!canMount) console.warn('the disk-full fault test is skipped: mounting a tmpfs needs root');

describe.skipIf(!canMount)('the SQLite disk fills up under traffic', () => {
  it('refuses sends with a retryable error, keeps every acked message and the reads, and recovers when space is back', async () => {
    const disk = smallDisk(24 * 1024 * 1024);
    if (!disk) throw new Error('could not mount a tmpfs');
    const node = killAtCleanup(cleanup, await startServer({ databasePath: path.join(disk, 'chat.db'), env: { RATE_MESSAGES_PER_SECOND: '100000' } }));
    await createRoom(node.url, ROOM);
    const account = await guest(node.url, 'scribe');
    const socket = await ChatSocket.open(node.wsUrl, account);
    cleanup.add(() => socket.connection.terminate());
    await socket.join(ROOM);

    // Fill the disk but for a little: the next writes that need room fail.
    const filler = path.join(disk, 'filler');
    const { bavail, bsize } = fs.statfsSync(disk);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 64 * 1024)));

    const acked = new Set<string>();
    const refused: string[] = [];
    const text = 'y'.repeat(3000);
    for (let i = 0; i < 400 && refused.length < 5; i++) {
      const answer = await socket.call({ type: 'send', room: ROOM, text, clientMsgId: `f${i}` }, 15_000);
      if (answer.type === 'message') acked.add(`f${i}`);
      else {
        expect(answer, JSON.stringify(answer)).toMatchObject({ type: 'error', code: 'internal' });
        refused.push(`f${i}`);
      }
    }
    expect(refused.length, 'the full disk refused some sends').toBeGreaterThan(0);
    // Reads keep working, and every acked message is there.
    const during = await readAllMessages(node.url, account.token, ROOM);
    expect(new Set(during.map((m) => m.clientMsgId))).toEqual(acked);
    expect(node.alive()).toBe(true);

    // Room again: the refused messages, sent again with their ids, are stored once each; nothing acked went missing.
    fs.rmSync(filler);
    for (const id of refused) expect(await socket.call({ type: 'send', room: ROOM, text, clientMsgId: id }, 15_000)).toMatchObject({ type: 'message' });
    const after = await readAllMessages(node.url, account.token, ROOM);
    expect(after.map((m) => m.clientMsgId).sort()).toEqual([...acked, ...refused].sort());
    expect(after.map((m) => m.seq)).toEqual(Array.from({ length: after.length }, (_, i) => i + 1));
    expect((await http(node.url, 'GET', '/healthz')).status).toBe(200);
  }, 90_000);
});
