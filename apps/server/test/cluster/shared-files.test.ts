/**
 * Two nodes on one PostgreSQL database, one Redis and one UPLOAD_DIR, as the
 * compose `cluster` profile mounts the `chat-files` volume on every node: a
 * file uploaded through one node is delivered with its message to a member on
 * the other and served by it, byte for byte; deleted through the other node,
 * it is gone for both, and from the disk.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatSocket, createCleanup, createRoom, guest, http, tempDir, until, type Msg, type ServerProcess } from '../delivery/support.js';
import { png } from '../helpers/files.js';
import { startNodes } from './start-cluster.js';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) console.warn('DATABASE_URL or REDIS_URL is unset: the shared upload directory test is skipped');

const cleanup = createCleanup();
afterEach(() => cleanup.run());
const ROOM = 'photos';

/** Every file under `dir`, temporaries included, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** Two nodes on one UPLOAD_DIR, the room, alice (signed up through n1) and bob (through n2). */
async function twoNodes() {
  const files = await tempDir();
  cleanup.add(() => files.remove());
  const { nodes } = await startNodes(cleanup, 2, { redisUrl: REDIS_URL!, presenceTtlMs: 3000, env: { UPLOAD_DIR: files.path } });
  const [n1, n2] = nodes as [ServerProcess, ServerProcess];
  await createRoom(n1.url, ROOM);
  return { files, n1, n2, alice: await guest(n1.url, 'alice'), bob: await guest(n2.url, 'bob') };
}

describe.skipIf(!enabled)('two nodes sharing UPLOAD_DIR (needs DATABASE_URL and REDIS_URL)', () => {
  it('serve through one node what was uploaded through the other, and delete it for both', async () => {
    const { files, n1, n2, alice, bob } = await twoNodes();
    const open = async (node: ServerProcess, account: typeof alice) => {
      const socket = await ChatSocket.open(node.wsUrl, account);
      cleanup.add(() => socket.connection.terminate());
      await socket.join(ROOM);
      return socket;
    };
    const aliceOn1 = await open(n1, alice);
    const bobOn2 = await open(n2, bob);

    const image = await png(40, 30);
    const form = new FormData();
    form.append('file', new Blob([image], { type: 'image/png' }), 'cat.png');
    const res = await fetch(`${n1.url}/api/rooms/${ROOM}/files`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
    expect(res.status).toBe(201);
    const uploaded = (await res.json()) as { id: string; url: string; thumbnailUrl?: string };
    const ack = await aliceOn1.call({ type: 'send', room: ROOM, text: 'a cat', clientMsgId: 'c1', attachments: [uploaded.id] });
    expect(ack).toMatchObject({ type: 'message', seq: 1 });

    const delivered = await bobOn2.waitFor('the message on the other node', (m: Msg) => m.type === 'message' && m.seq === 1);
    expect(delivered.attachments).toMatchObject([{ id: uploaded.id, url: uploaded.url, name: 'cat.png', contentType: 'image/png', width: 40, height: 30 }]);
    const got = await fetch(`${n2.url}${uploaded.url}`, { headers: { authorization: `Bearer ${bob.token}` } });
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(image)).toBe(true);
    expect((await filesUnder(files.path)).filter((f) => !f.startsWith('tmp'))).toHaveLength(uploaded.thumbnailUrl ? 2 : 1);

    // Alice deletes it through node 2; neither node serves it any more, and the directory is empty.
    const aliceOn2 = await open(n2, alice);
    const deleted = await aliceOn2.call({ type: 'delete', room: ROOM, id: ack.id });
    expect(deleted).toMatchObject({ type: 'message_updated', room: ROOM, id: ack.id, deleted: true });
    for (const node of [n1, n2]) {
      expect((await http(node.url, 'GET', uploaded.url, { token: bob.token })).status).toBe(404);
    }
    await until('the files to leave the shared directory', async () => (await filesUnder(files.path)).filter((f) => !f.startsWith('tmp')).length === 0, 5000);
  });

  it('carry one upload on one message when two messages name it at once through the two nodes', async () => {
    const { n1, n2, alice, bob } = await twoNodes();
    const sockets = await Promise.all([n1, n2, n2].map((node, i) => ChatSocket.open(node.wsUrl, i < 2 ? alice : bob)));
    for (const socket of sockets) cleanup.add(() => socket.connection.terminate());
    for (const socket of sockets) await socket.join(ROOM);
    const [aliceOn1, aliceOn2, bobOn2] = sockets as [ChatSocket, ChatSocket, ChatSocket];

    const form = new FormData();
    form.append('file', new Blob(['notes']), 'notes.txt');
    const res = await fetch(`${n1.url}/api/rooms/${ROOM}/files`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
    const { id } = (await res.json()) as { id: string };
    const answers = await Promise.all(
      [aliceOn1, aliceOn2].map((socket, i) => socket.call({ type: 'send', room: ROOM, text: `take ${i}`, clientMsgId: `take-${i}`, attachments: [id] })),
    );
    // One is stored with the file; the other is refused, whichever node's check or commit came second.
    expect(answers.map((a) => a.type).sort()).toEqual(['error', 'message']);
    expect(answers.find((a) => a.type === 'error')).toMatchObject({ code: 'conflict' });
    const winner = answers.find((a) => a.type === 'message')!;
    expect(await bobOn2.waitFor('the stored one', (m: Msg) => m.type === 'message')).toMatchObject({ id: winner.id, seq: 1, attachments: [{ id }] });
    const history = await http(n2.url, 'GET', `/api/rooms/${ROOM}/messages`, { token: bob.token });
    expect((history.body as { messages: Msg[] }).messages.map((m) => [m.id, m.attachments?.length])).toEqual([[winner.id, 1]]);
    // Nothing else reached bob (the refused one was never delivered).
    await bobOn2.call({ type: 'send', room: ROOM, text: 'after', clientMsgId: 'after' });
    expect(bobOn2.received.filter((m: Msg) => m.type === 'message').map((m: Msg) => m.seq)).toEqual([1, 2]);
  });
});
