import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, tempDir } from './helpers/build.js';
import { openClient } from './helpers/chat-client.js';
import { PASSWORD, admin, createRoom, request, signUp } from './helpers/http.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let databasePath: string;
beforeEach(async () => {
  dir = await tempDir();
  databasePath = path.join(dir.path, 'chat.db');
});
afterEach(async () => {
  await dir.remove();
});

describe('a restart on the same database file', () => {
  it('keeps rooms, users and history', async () => {
    const first = await build({}, { databasePath });
    let historyBefore: unknown;
    let roomsBefore: unknown;
    try {
      const alice = await signUp(first, 'alice');
      const bob = await signUp(first, 'bob');
      await createRoom(first, 'general', { topic: 'kept' });
      await request(first, 'POST', '/api/rooms', { token: bob.token, body: { id: 'bobs-room', title: 'Bob’s room' } });
      await admin(first, 'POST', '/rooms/general/bans', { username: 'bob' });
      const client = await openClient(first, { token: alice.token, name: 'alice' });
      await client.join('general');
      const kept = await client.say('general', 'first');
      await client.say('general', 'second');
      await client.call({ type: 'edit', room: 'general', id: kept.id, text: 'first, edited' });
      const doomed = await client.say('general', 'third');
      await client.call({ type: 'delete', room: 'general', id: doomed.id });
      await client.call({ type: 'read', room: 'general', seq: 2 });
      historyBefore = (await request(first, 'GET', '/api/rooms/general/messages', { token: alice.token })).body;
      roomsBefore = (await admin(first, 'GET', '/rooms')).body;
    } finally {
      await first.close();
    }

    const second = await build({}, { databasePath });
    try {
      const login = await request(second, 'POST', '/api/auth/login', { body: { username: 'alice', password: PASSWORD } });
      expect(login.status).toBe(200);
      const token = login.body.token as string;
      expect((await request(second, 'GET', '/api/rooms/general/messages', { token })).body).toEqual(historyBefore);
      expect((await admin(second, 'GET', '/rooms')).body).toEqual(roomsBefore);
      expect((await admin(second, 'GET', '/rooms/general/members')).body).toEqual({
        members: [{ username: 'alice', online: false, readSeq: 2, role: 'member' }],
      });

      // The ban survived; so did bob's account.
      const bobLogin = await request(second, 'POST', '/api/auth/login', { body: { username: 'bob', password: PASSWORD } });
      expect(bobLogin.status).toBe(200);
      expect((await request(second, 'GET', '/api/rooms/general/messages', { token: bobLogin.body.token })).status).toBe(403);

      // Numbering carries on where it stopped.
      const client = await openClient(second, { token, name: 'alice' });
      const joined = await client.join('general', { since: 1 });
      expect(joined.history.map((m) => m.seq)).toEqual([2, 3]);
      expect((await client.say('general', 'after the restart')).seq).toBe(4);
    } finally {
      await second.close();
    }
  });

  it('keeps sessions: a token issued before the restart still works', async () => {
    const first = await build({}, { databasePath });
    let token: string;
    try {
      token = (await signUp(first, 'alice')).token;
    } finally {
      await first.close();
    }
    const second = await build({}, { databasePath });
    try {
      expect((await request(second, 'GET', '/api/me', { token })).body).toMatchObject({ user: { username: 'alice' } });
    } finally {
      await second.close();
    }
  });

  it('keeps every message acknowledged before close', async () => {
    const first = await build({}, { databasePath });
    let token = '';
    let acked: number[] = [];
    try {
      token = (await signUp(first, 'alice')).token;
      await createRoom(first, 'general');
      const client = await openClient(first, { token, name: 'alice' });
      await client.join('general');
      const refs = Array.from({ length: 20 }, (_, i) => `m${i}`);
      for (const ref of refs) client.send({ type: 'send', room: 'general', text: ref, clientMsgId: ref, ref });
      const replies = await Promise.all(refs.map((ref) => client.nextWhere((m) => 'ref' in m && m.ref === ref)));
      acked = replies.flatMap((r) => (r.type === 'message' ? [r.seq] : []));
    } finally {
      await first.close();
    }
    const second = await build({}, { databasePath });
    try {
      const res = await request(second, 'GET', '/api/rooms/general/messages?limit=100', { token });
      expect(res.body.messages.map((m: { seq: number }) => m.seq).reverse()).toEqual(acked);
    } finally {
      await second.close();
    }
  });
});
