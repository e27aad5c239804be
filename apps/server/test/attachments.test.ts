/**
 * Attachments end to end: uploads over real HTTP (multipart, and raw sockets
 * for bodies that break off), sends over real WebSockets, the real store
 * (SQLite, or PostgreSQL in the server-postgres project) and the real upload
 * directory. Every bad input gets its status and `{error}`, leaves no file
 * behind, and the server goes on serving.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, tempDir, type TestServer } from './helpers/build.js';
import { actingAs } from './helpers/acting-as.js';
import type { ChatClient } from './helpers/chat-client.js';
import { filesOnDisk, multipartBody, png, pngBomb, rawUpload, upload, zipBomb } from './helpers/files.js';
import { expectError, request, signUp, type SignedIn } from './helpers/http.js';
import { testStore } from './helpers/postgres.js';

let server: TestServer;
let alice: SignedIn;
let bob: SignedIn;
let mallory: SignedIn;
const clients: ChatClient[] = [];
const LIMITS = { MAX_UPLOAD_BYTES: String(256 * 1024), MAX_UPLOAD_BYTES_PER_USER: String(600 * 1024), MAX_ATTACHMENTS_PER_MESSAGE: '3' };

async function start(env: Record<string, string> = {}) {
  server = await build({ ...LIMITS, ...env });
  [alice, bob, mallory] = [await signUp(server, 'alice'), await signUp(server, 'bob'), await signUp(server, 'mallory')];
  // alice owns `team` (public, bob joins it); `secret` is private to alice.
  expect((await api(alice, 'POST', '/api/rooms', { id: 'team', title: 'Team' })).status).toBe(201);
  expect((await api(alice, 'POST', '/api/rooms', { id: 'secret', title: 'Secret', private: true })).status).toBe(201);
}
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await server.close();
});

const { api, connect } = actingAs(() => server, clients);
const fetchAs = (who: SignedIn, url: string, headers: Record<string, string> = {}) =>
  fetch(server.url + url, { headers: { authorization: `Bearer ${who.token}`, ...headers } });
/** The kept files (not temporaries) on disk. */
const keptFiles = async () => (await filesOnDisk(server)).filter((f) => !f.startsWith('tmp'));

/** The server still answers, and nothing but what is recorded is on disk. */
async function stillServing(expectedFiles: number) {
  expect((await request(server, 'GET', '/healthz')).status).toBe(200);
  expect(await filesOnDisk(server)).toHaveLength(expectedFiles);
}

describe('uploading and sending files', () => {
  beforeEach(() => start());

  it('an image is measured and thumbnailed, sent on a message, and every member gets it live, in joined and in history', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'team');
    const image = await png(640, 480);
    const up = await upload(server, alice.token, 'team', image, 'holiday.png', 'image/png');
    expect(up.status).toBe(201);
    expect(up.body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      name: 'holiday.png',
      size: image.length,
      contentType: 'image/png',
      url: `/api/rooms/team/files/${up.body.id}`,
      width: 640,
      height: 480,
      thumbnailUrl: `/api/rooms/team/files/${up.body.id}/thumbnail`,
    });
    const sent = await a.call({ type: 'send', room: 'team', text: 'look', clientMsgId: 'f1', attachments: [up.body.id] });
    expect(sent).toMatchObject({ type: 'message', text: 'look', attachments: [up.body] });
    expect(await b.next('message')).toMatchObject({ text: 'look', attachments: [up.body] });
    expect((await api(bob, 'GET', '/api/rooms/team/messages')).body.messages.at(-1).attachments).toEqual([up.body]);
    const later = await connect(bob);
    expect((await later.join('team')).history.at(-1)!.attachments).toEqual([up.body]);

    const res = await fetchAs(bob, up.body.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="holiday.png"; filename*=UTF-8''holiday.png`);
    expect(Buffer.from(await res.arrayBuffer()).equals(image)).toBe(true);
    const thumb = await fetchAs(bob, up.body.thumbnailUrl);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 320, 240]);
  });

  it('answers range requests with 206 and the bytes asked for, 416 past the end', async () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    const up = await upload(server, alice.token, 'team', bytes, 'data.bin');
    expect(up.status).toBe(201);
    const part = await fetchAs(alice, up.body.url, { range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 1000-1999/100000');
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
    const tail = await fetchAs(alice, up.body.url, { range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);
    const past = await fetchAs(alice, up.body.url, { range: 'bytes=100000-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */100000');
  });

  it('serves SVG, HTML and unknown bytes as downloads of application/octet-stream, never inline', async () => {
    for (const [name, text] of [
      ['x.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
      ['x.html', '<!doctype html><script>alert(1)</script>'],
    ] as const) {
      const up = await upload(server, alice.token, 'team', Buffer.from(text), name, name.endsWith('svg') ? 'image/svg+xml' : 'text/html');
      expect(up.status).toBe(201);
      expect(up.body.contentType).toBe('application/octet-stream');
      const res = await fetchAs(alice, up.body.url);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(res.headers.get('content-security-policy')).toContain('sandbox');
    }
  });

  it('a zip is taken for what its bytes say, and a download', async () => {
    const up = await upload(server, alice.token, 'team', zipBomb(), 'archive.zip');
    expect(up.status).toBe(201);
    expect(up.body.contentType).toBe('application/zip');
  });
});

describe('who may upload, fetch and attach', () => {
  beforeEach(() => start());

  it('a file is fetched only by members of its room: others get 404, as for no file at all', async () => {
    await connect(bob, 'team');
    const up = await upload(server, alice.token, 'team', await png(), 'a.png');
    expect((await fetchAs(bob, up.body.url)).status).toBe(200);
    for (const url of [up.body.url, up.body.thumbnailUrl, '/api/rooms/team/files/AAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await request(server, 'GET', url, { token: mallory.token });
      expectError(res, 404, 'not_found');
    }
    // The id in another room's URL is no way in either.
    await connect(mallory, 'team');
    const secret = await upload(server, alice.token, 'secret', await png(), 's.png');
    expectError(await request(server, 'GET', `/api/rooms/team/files/${secret.body.id}`, { token: mallory.token }), 404, 'not_found');
    expectError(await request(server, 'GET', secret.body.url, { token: mallory.token }), 404, 'not_found');
    expectError(await request(server, 'GET', up.body.url), 401, 'unauthorized');
  });

  it('uploading into a room you are not in is refused before the body is read, and leaves nothing', async () => {
    const before = await filesOnDisk(server);
    const publicRoom = await upload(server, mallory.token, 'team', await png(), 'a.png');
    expect(publicRoom.status).toBe(403);
    expect(publicRoom.body.error.code).toBe('forbidden');
    const privateRoom = await upload(server, mallory.token, 'secret', await png(), 'a.png');
    expect(privateRoom.status).toBe(403);
    const noRoom = await upload(server, mallory.token, 'nowhere', await png(), 'a.png');
    expect(noRoom.status).toBe(404);
    expect(await filesOnDisk(server)).toEqual(before);
  });

  it("a send naming someone else's upload, another room's, or an unknown id is not_found; one upload goes on one message", async () => {
    const b = await connect(bob, 'team');
    await connect(alice, 'team');
    const alices = await upload(server, alice.token, 'team', await png(), 'a.png');
    const mine = await upload(server, bob.token, 'team', await png(), 'b.png');
    for (const attachments of [[alices.body.id], ['AAAAAAAAAAAAAAAAAAAAAA']]) {
      const reply = await b.call({ type: 'send', room: 'team', text: 'x', clientMsgId: `c-${attachments[0]}`, attachments });
      expect(reply).toMatchObject({ type: 'error', code: 'not_found' });
    }
    expect(await b.call({ type: 'send', room: 'team', text: 'x', clientMsgId: 'c-bad', attachments: ['../../etc/passwd'] })).toMatchObject({
      type: 'error',
      code: 'invalid_message',
    });
    expect(await b.call({ type: 'send', room: 'team', text: 'mine', clientMsgId: 'c-1', attachments: [mine.body.id] })).toMatchObject({
      type: 'message',
    });
    expect(await b.call({ type: 'send', room: 'team', text: 'again', clientMsgId: 'c-2', attachments: [mine.body.id] })).toMatchObject({
      type: 'error',
      code: 'conflict',
    });
    // alice's upload is untouched: still hers to send.
    expect((await api(alice, 'GET', '/api/rooms/team/messages')).body.messages.map((m: { text: string }) => m.text)).toEqual(['mine']);
  });
});

describe('files-only messages and re-sends', () => {
  beforeEach(() => start());

  it('a send with empty text is stored when it carries a file; without one it is invalid_message', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'team');
    const up = await upload(server, alice.token, 'team', await png(), 'only.png');
    const sent = await a.call({ type: 'send', room: 'team', text: '', clientMsgId: 'only-file', attachments: [up.body.id] });
    expect(sent).toMatchObject({ type: 'message', text: '', attachments: [up.body] });
    expect(await b.next('message')).toMatchObject({ text: '', attachments: [up.body] });
    for (const extra of [{}, { attachments: [] }]) {
      expect(await a.call({ type: 'send', room: 'team', text: '', clientMsgId: 'empty', ...extra })).toMatchObject({
        type: 'error',
        code: 'invalid_message',
        message: 'text: a message needs text or at least one file',
      });
    }
    expect((await api(bob, 'GET', '/api/rooms/team/messages')).body.messages).toHaveLength(1);
  });

  it('a re-send with the same clientMsgId and files after a lost ack answers the stored message, stored once', async () => {
    const a = await connect(alice, 'team');
    const ids = [(await upload(server, alice.token, 'team', await png(), 'a.png')).body.id, (await upload(server, alice.token, 'team', Buffer.from('notes'), 'b.txt')).body.id];
    const send = { type: 'send', room: 'team', text: 'twice', clientMsgId: 'lost-ack', attachments: ids } as const;
    const first = await a.call(send);
    expect(first.type).toBe('message');
    // The ack was lost: the client reconnects and sends the same message again.
    await a.close();
    const again = await connect(alice, 'team');
    const second = await again.call(send);
    const { id, seq, attachments } = first as { id: number; seq: number; attachments: unknown };
    expect(second).toMatchObject({ type: 'message', id, seq, attachments });
    const stored = (await api(alice, 'GET', '/api/rooms/team/messages')).body.messages;
    expect(stored.map((m: { id: number }) => m.id)).toEqual([id]);
    expect(await keptFiles()).toHaveLength(3);
  });

  it('the same send twice at once (a re-send before the first is stored) is answered twice with one stored message', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'team');
    const id = (await upload(server, alice.token, 'team', Buffer.from('notes'), 'n.txt')).body.id;
    const send = { type: 'send', room: 'team', text: 'hasty', clientMsgId: 'hasty', attachments: [id] } as const;
    const [first, second] = await Promise.all([a.call(send), a.call(send)]);
    expect(first).toMatchObject({ type: 'message', attachments: [{ id }] });
    expect(second).toMatchObject({ type: 'message', id: (first as { id: number }).id, attachments: [{ id }] });
    expect(await b.next('message')).toMatchObject({ text: 'hasty', attachments: [{ id }] });
    // A different message naming the same file is refused.
    expect(await a.call({ ...send, clientMsgId: 'other' })).toMatchObject({ type: 'error', code: 'conflict' });
    expect((await api(bob, 'GET', '/api/rooms/team/messages')).body.messages).toHaveLength(1);
  });
});

describe('limits', () => {
  beforeEach(() => start());

  it('a file over MAX_UPLOAD_BYTES is 413 with a JSON error, and nothing partial stays on disk', async () => {
    const res = await upload(server, alice.token, 'team', Buffer.alloc(256 * 1024 + 1, 7), 'big.bin');
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'too_large', message: 'a file is at most 262144 bytes' } });
    await stillServing(0);
    expect((await upload(server, alice.token, 'team', Buffer.alloc(256 * 1024, 7), 'just.bin')).status).toBe(201);
  });

  it("past a user's total (MAX_UPLOAD_BYTES_PER_USER) uploads are 413; others' are not", async () => {
    for (let i = 0; i < 2; i++) expect((await upload(server, alice.token, 'team', Buffer.alloc(250 * 1024, i), `f${i}.bin`)).status).toBe(201);
    const over = await upload(server, alice.token, 'team', Buffer.alloc(150 * 1024), 'over.bin');
    expect(over.status).toBe(413);
    expect(over.body.error.message).toMatch(/in all/);
    await connect(bob, 'team');
    expect((await upload(server, bob.token, 'team', Buffer.alloc(150 * 1024), 'ok.bin')).status).toBe(201);
    await stillServing(3);
  });

  it('a message carries at most MAX_ATTACHMENTS_PER_MESSAGE files', async () => {
    const a = await connect(alice, 'team');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await upload(server, alice.token, 'team', Buffer.from(`file ${i}`), `${i}.txt`)).body.id);
    expect(await a.call({ type: 'send', room: 'team', text: 'four', clientMsgId: 'c4', attachments: ids })).toMatchObject({
      type: 'error',
      code: 'too_large',
      message: 'a message carries at most 3 files (MAX_ATTACHMENTS_PER_MESSAGE); this one names 4',
    });
    const three = await a.call({ type: 'send', room: 'team', text: 'three', clientMsgId: 'c3', attachments: ids.slice(0, 3) });
    expect(three.type).toBe('message');
    expect((three as { attachments: Array<{ id: string }> }).attachments.map((f) => f.id)).toEqual(ids.slice(0, 3));
  });
});

describe('bad input', () => {
  beforeEach(() => start());

  it('a PNG declaring 50000×50000 pixels is 413 before anything is decoded', async () => {
    const bomb = pngBomb();
    expect(bomb.length).toBeLessThan(200);
    const res = await upload(server, alice.token, 'team', bomb, 'bomb.png', 'image/png');
    expect(res.status).toBe(413);
    expect(res.body.error).toEqual({ code: 'too_large', message: expect.stringMatching(/50000×50000 pixels/) });
    await stillServing(0);
  });

  it('a zip bomb named .png is refused: its bytes are no image', async () => {
    const res = await upload(server, alice.token, 'team', zipBomb(), 'cute-cat.png', 'image/png');
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'invalid_request', message: 'the file claims to be image/png but its bytes are application/zip' });
    await stillServing(0);
  });

  it('a PNG that does not decode is refused', async () => {
    const broken = Buffer.concat([(await png()).subarray(0, 60), Buffer.alloc(100, 1)]);
    const res = await upload(server, alice.token, 'team', broken, 'broken.png', 'image/png');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    await stillServing(0);
  });

  it('file names with a path or control characters are 400', async () => {
    for (const name of ['../../etc/passwd', 'a\\b.txt', 'bell\u0007.txt', 'evil\u202egnp.exe', '..']) {
      const body = multipartBody(name, Buffer.from('hello'));
      const res = await fetch(`${server.url}/api/rooms/team/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'multipart/form-data; boundary=test-boundary-7f3a' },
        body,
      });
      expect(res.status, name).toBe(400);
      expect((await res.json()).error.code).toBe('invalid_request');
    }
    await stillServing(0);
  });

  it('a multipart body cut short is 400, leaves no file, and the server keeps serving', async () => {
    const body = multipartBody('cut.bin', Buffer.alloc(50_000, 1));
    const answer = await rawUpload(server, alice.token, 'team', { contentLength: body.length }, body.subarray(0, 20_000), 'end');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"invalid_request"');
    await stillServing(0);
  });

  it('a body without the closing boundary is 400', async () => {
    const body = multipartBody('open.bin', Buffer.alloc(5000, 1)).subarray(0, -20);
    const answer = await rawUpload(server, alice.token, 'team', { contentLength: body.length }, body, 'wait');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"invalid_request"');
    await stillServing(0);
  });

  it('an upload abandoned half-way leaves no file, and the server keeps serving', async () => {
    const body = multipartBody('gone.bin', Buffer.alloc(200_000, 1));
    await rawUpload(server, alice.token, 'team', { contentLength: body.length }, body.subarray(0, 100_000), 'abandon');
    // The server notices the socket is gone on its own time.
    for (let i = 0; i < 50 && (await filesOnDisk(server)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    await stillServing(0);
    expect((await upload(server, alice.token, 'team', Buffer.from('after'), 'after.txt')).status).toBe(201);
  });

  it('a request that is not multipart, or has no field `file`, is 400', async () => {
    expectError(await api(alice, 'POST', '/api/rooms/team/files', { file: 'x' }), 400, 'invalid_request');
    const form = new FormData();
    form.append('other', new Blob(['x']), 'x.txt');
    const res = await fetch(`${server.url}/api/rooms/team/files`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
    expect(res.status).toBe(400);
    await stillServing(0);
  });
});

describe('cleaning up', () => {
  it("deleting a message deletes its files (REST and the socket); deleting a room deletes its room's", async () => {
    await start();
    const a = await connect(alice, 'team');
    const one = await upload(server, alice.token, 'team', await png(), 'one.png');
    const two = await upload(server, alice.token, 'team', Buffer.from('two'), 'two.txt');
    const m1 = await a.call({ type: 'send', room: 'team', text: '1', clientMsgId: 'd1', attachments: [one.body.id] });
    const m2 = await a.call({ type: 'send', room: 'team', text: '2', clientMsgId: 'd2', attachments: [two.body.id] });
    expect(await keptFiles()).toHaveLength(3); // one.png, its thumbnail, two.txt
    expect((await api(alice, 'DELETE', `/api/rooms/team/messages/${(m1 as { id: number }).id}`)).status).toBe(204);
    expect(await keptFiles()).toHaveLength(1);
    expectError(await request(server, 'GET', one.body.url, { token: alice.token }), 404, 'not_found');
    const deleted = await a.call({ type: 'delete', room: 'team', id: (m2 as { id: number }).id });
    expect(deleted).toMatchObject({ type: 'message_updated', deleted: true });
    expect(deleted).not.toHaveProperty('attachments');
    expect(await keptFiles()).toHaveLength(0);

    await upload(server, alice.token, 'secret', await png(), 's.png');
    expect(await keptFiles()).toHaveLength(2);
    expect((await api(alice, 'DELETE', '/api/rooms/secret')).status).toBe(204);
    expect(await keptFiles()).toHaveLength(0);
  });

  it('an upload no message carries within UPLOAD_UNATTACHED_TTL_MS is deleted, rows and files', async () => {
    await start({ UPLOAD_UNATTACHED_TTL_MS: '1000' });
    const a = await connect(alice, 'team');
    const kept = await upload(server, alice.token, 'team', Buffer.from('sent'), 'sent.txt');
    await a.call({ type: 'send', room: 'team', text: 'k', clientMsgId: 'k1', attachments: [kept.body.id] });
    const left = await upload(server, alice.token, 'team', await png(), 'left.png');
    expect(await keptFiles()).toHaveLength(3);
    for (let i = 0; i < 60 && (await keptFiles()).length > 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await keptFiles()).toHaveLength(1);
    expectError(await request(server, 'GET', left.body.url, { token: alice.token }), 404, 'not_found');
    expect((await fetchAs(alice, kept.body.url)).status).toBe(200);
    expect(await a.call({ type: 'send', room: 'team', text: 'late', clientMsgId: 'k2', attachments: [left.body.id] })).toMatchObject({
      type: 'error',
      code: 'not_found',
    });
  });
});

describe('backup and restore', () => {
  it('the backup command copies the files beside the database; a server restored from both serves them', async ({ skip }) => {
    skip(testStore === 'postgres', 'SQLite only: the backup CLI copies the SQLite file; PostgreSQL is backed up with pg_dump');
    await start();
    const a = await connect(alice, 'team');
    const image = await png(100, 80);
    const up = await upload(server, alice.token, 'team', image, 'kept.png');
    await a.call({ type: 'send', room: 'team', text: 'keep this', clientMsgId: 'b1', attachments: [up.body.id] });
    const dir = await tempDir();
    try {
      const file = path.join(dir.path, 'backup.db');
      const serverRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
      const { stdout } = await promisify(execFile)(process.execPath, ['dist/backup.js', file], {
        cwd: serverRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_PATH: server.databasePath, INIT_CWD: serverRoot },
      });
      expect(stdout).toMatch(/backed up the files in .* to .*backup\.db\.files/);
      // Restore as operations.md says: the database file, and its files as UPLOAD_DIR.
      const restored = await build({ UPLOAD_DIR: `${file}.files` }, { databasePath: file });
      try {
        const login = await request(restored, 'POST', '/api/auth/login', { body: { username: 'alice', password: alice.password } });
        const [message] = (await request(restored, 'GET', '/api/rooms/team/messages', { token: login.body.token })).body.messages;
        expect(message.attachments).toEqual([up.body]);
        const res = await fetch(restored.url + up.body.url, { headers: { authorization: `Bearer ${login.body.token}` } });
        expect(Buffer.from(await res.arrayBuffer()).equals(image)).toBe(true);
        expect((await fetch(restored.url + up.body.thumbnailUrl, { headers: { authorization: `Bearer ${login.body.token}` } })).status).toBe(200);
      } finally {
        await restored.close();
      }
    } finally {
      await dir.remove();
    }
  });
});
