/**
 * `chat.v1` grows additively: a client written before roles, direct
 * conversations and invitations sends today's message set, and every reply
 * and event it gets still parses with the schema it was written against
 * (frozen in fixtures/chat-v1-before-roles.ts) — even when the room it is in
 * has an owner and moderators acting in it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { openConnection } from './helpers/chat-client.js';
import { request, signUp, type SignedIn } from './helpers/http.js';
import { ServerMessage as ServerMessageBefore } from './fixtures/chat-v1-before-roles.js';

let server: TestServer;
let alice: SignedIn;
let old: SignedIn;
beforeEach(async () => {
  server = await build();
  alice = await signUp(server, 'alice');
  old = await signUp(server, 'oldtimer');
});
afterEach(async () => {
  await server.close();
});

/** A client of before: raw JSON over the socket, each message checked against the old schema. */
async function oldClient(who: SignedIn) {
  const connection = await openConnection(server, { token: who.token });
  const received: unknown[] = [];
  const waiting: Array<{ ref: string; resolve: (m: { type: string; ref?: string }) => void }> = [];
  connection.on('message', (data: string | Buffer) => {
    const message = JSON.parse(String(data));
    received.push(message);
    const i = waiting.findIndex((w) => w.ref === message.ref);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(message);
  });
  let n = 0;
  return {
    received,
    call(message: object): Promise<{ type: string; ref?: string } & Record<string, unknown>> {
      const ref = `old-${++n}`;
      return new Promise((resolve) => {
        waiting.push({ ref, resolve: resolve as never });
        connection.send(JSON.stringify({ ...message, ref }));
      });
    },
    close: () => connection.close(1000),
  };
}

describe('a client written before roles, direct conversations and invitations', () => {
  it('gets replies and events its own schema accepts, and no new type but `role`, which it ignores', async () => {
    expect((await request(server, 'POST', '/api/rooms', { token: alice.token, body: { id: 'general', title: 'General' } })).status).toBe(201);
    const client = await oldClient(old);
    expect((await client.call({ type: 'join', room: 'general' })).type).toBe('joined');
    const sent = await client.call({ type: 'send', room: 'general', text: 'hello from before', clientMsgId: 'c1' });
    expect(sent.type).toBe('message');
    expect((await client.call({ type: 'send', room: 'general', text: 'hello from before', clientMsgId: 'c1' })).id).toBe(sent.id);
    expect((await client.call({ type: 'history', room: 'general' })).type).toBe('history');
    expect((await client.call({ type: 'edit', room: 'general', id: sent.id, text: 'edited' })).type).toBe('message_updated');
    const second = await client.call({ type: 'send', room: 'general', text: 'two', clientMsgId: 'c2' });
    expect((await client.call({ type: 'delete', room: 'general', id: second.id })).type).toBe('message_updated');
    expect((await client.call({ type: 'read', room: 'general', seq: 2 })).type).toBe('read');
    client.call({ type: 'typing', room: 'general' });
    // The owner acts in the room meanwhile: a role change, a topic edit, a deletion of the old client's message.
    expect((await request(server, 'PUT', '/api/rooms/general/members/oldtimer/role', { token: alice.token, body: { role: 'moderator' } })).status).toBe(204);
    expect((await request(server, 'PATCH', '/api/rooms/general', { token: alice.token, body: { topic: 'new' } })).status).toBe(200);
    expect((await request(server, 'DELETE', `/api/rooms/general/messages/${sent.id}`, { token: alice.token })).status).toBe(204);
    expect((await client.call({ type: 'nonsense' })).type).toBe('error');
    expect((await client.call({ type: 'leave', room: 'general' })).type).toBe('left');
    await client.close();

    expect(client.received.length).toBeGreaterThan(10);
    const rejected = client.received.filter((m) => !ServerMessageBefore.safeParse(m).success);
    // Every message of a type it knows parses as it did; the one new type it meets is the role event, which v1
    // clients ignore (docs/protocol.md; the web client of then dropped whatever did not parse).
    expect(rejected.map((m) => (m as { type: string }).type)).toEqual(['role']);
  });
});
