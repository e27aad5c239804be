/**
 * The Redis broker and presence registry against the real Redis at REDIS_URL
 * (skipped, saying so, when it is unset). Each test uses its own key prefix,
 * so runs never see each other's rooms.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeEvent, RoomEvent } from '../../src/chat/events.js';
import { RedisBroker } from '../../src/cluster/redis-broker.js';
import { RedisPresence } from '../../src/cluster/redis-presence.js';
import { createCleanup, sleep, until } from '../delivery/support.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('REDIS_URL is unset: the Redis broker and presence tests are skipped (set it, e.g. redis://127.0.0.1:6379)');

const cleanup = createCleanup();
afterEach(() => cleanup.run());

/** A fresh key prefix; its keys are deleted after the test. */
function prefix(): string {
  const p = `test-${randomUUID().slice(0, 8)}:`;
  cleanup.add(async () => {
    const raw = new Redis(REDIS_URL!);
    try {
      const keys = await raw.keys(`${p}*`);
      if (keys.length > 0) await raw.del(...keys);
    } finally {
      await raw.quit();
    }
  });
  return p;
}

async function broker(instanceId: string, keyPrefix: string): Promise<{ broker: RedisBroker; events: RoomEvent[] }> {
  const b = new RedisBroker(REDIS_URL!, { instanceId, prefix: keyPrefix });
  await b.connect();
  cleanup.add(() => b.close());
  const events: RoomEvent[] = [];
  b.setHandler((e) => events.push(e));
  return { broker: b, events };
}

async function presence(instanceId: string, keyPrefix: string, ttlMs = 10_000): Promise<RedisPresence> {
  const p = new RedisPresence(REDIS_URL!, { instanceId, prefix: keyPrefix, ttlMs });
  await p.start();
  cleanup.add(() => p.close());
  return p;
}

const message = (room: string, seq: number): RoomEvent => ({
  kind: 'message',
  room,
  message: { id: seq, roomId: room, seq, authorId: 1, author: 'ann', text: `m${seq}`, clientMsgId: `c${seq}`, ts: 1, editedAt: null, deletedAt: null, replyTo: null, replies: 0, reactions: [], pinnedAt: null },
});

describe.skipIf(!REDIS_URL)('RedisBroker (needs REDIS_URL)', () => {
  it('delivers an event to the publishing node at once and to a subscribed node once, in publish order', async () => {
    const p = prefix();
    const a = await broker('a#1', p);
    const b = await broker('b#1', p);
    await b.broker.subscribe('lobby');
    await a.broker.subscribe('lobby');
    for (let seq = 1; seq <= 50; seq++) void a.broker.publish(message('lobby', seq));
    // Local delivery is synchronous: all 50 are there before any network round trip.
    expect(a.events.map((e) => (e.kind === 'message' ? e.message.seq : -1))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await until('node b to receive 50 events', () => b.events.length >= 50, 5000);
    await sleep(100);
    expect(b.events.map((e) => (e.kind === 'message' ? e.message.seq : -1))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Node a heard its own events come back and skipped them.
    expect(a.events).toHaveLength(50);
  });

  it('carries every kind of room event intact, without the local-only replyTo', async () => {
    const p = prefix();
    const a = await broker('a#1', p);
    const b = await broker('b#1', p);
    await b.broker.subscribe('r');
    const sent: RoomEvent[] = [
      { ...message('r', 1), replyTo: { connectionId: 'a-1', ref: 7 } } as RoomEvent,
      { kind: 'typing', room: 'r', userId: 2, user: 'bob' },
      { kind: 'presence', room: 'r', userId: 2, user: 'bob', state: 'offline' },
      { kind: 'room_updated', room: 'r', title: 'T', topic: 'x', private: true, archived: false },
      { kind: 'member_removed', room: 'r', userId: 3, reason: 'banned' },
      { kind: 'role_changed', room: 'r', userId: 2, user: 'bob', role: 'moderator' },
      { kind: 'reaction', room: 'r', messageId: 1, emoji: '👍🏽', user: 'bob', added: true, count: 3 },
      { kind: 'room_deleted', room: 'r' },
    ];
    for (const e of sent) await a.broker.publish(e);
    await until('node b to receive 8 events', () => b.events.length >= 8, 5000);
    const { replyTo: _dropped, ...first } = sent[0] as RoomEvent & { replyTo?: unknown };
    expect(b.events).toEqual([first, ...sent.slice(1)]);
  });

  it('stops delivering a room after unsubscribe, and never delivers rooms not subscribed', async () => {
    const p = prefix();
    const a = await broker('a#1', p);
    const b = await broker('b#1', p);
    await b.broker.subscribe('one');
    await a.broker.publish(message('one', 1));
    await a.broker.publish(message('two', 1));
    await until('the first event', () => b.events.length >= 1, 5000);
    await b.broker.unsubscribe('one');
    await a.broker.publish(message('one', 2));
    // A marker on a room b still hears proves the bus has moved past the unheard event.
    await b.broker.subscribe('marker');
    await a.broker.publish(message('marker', 1));
    await until('the marker', () => b.events.some((e) => e.room === 'marker'), 5000);
    expect(b.events.map((e) => e.room)).toEqual(['one', 'marker']);
  });

  it('ignores payloads on its channels that are not events, and keeps working', async () => {
    const p = prefix();
    const b = await broker('b#1', p);
    await b.broker.subscribe('r');
    const raw = new Redis(REDIS_URL!);
    cleanup.add(() => raw.quit());
    await raw.publish(`${p}room:r`, 'not an event');
    await raw.publish(`${p}room:r`, 'x#1\n{not json');
    await raw.publish(`${p}room:r`, 'x#1\n42');
    const a = await broker('a#1', p);
    await a.broker.publish(message('r', 1));
    await until('the real event', () => b.events.length >= 1, 5000);
    expect(b.events).toEqual([message('r', 1)]);
  });

  it('carries node-wide events to every node, whatever rooms it serves; the publisher hears its own once, at once; junk is ignored', async () => {
    const p = prefix();
    const a = await broker('a#1', p);
    const b = await broker('b#1', p);
    const c = await broker('c#1', p);
    const heard = { a: [] as NodeEvent[], b: [] as NodeEvent[], c: [] as NodeEvent[] };
    a.broker.setNodeHandler((e) => heard.a.push(e));
    b.broker.setNodeHandler((e) => heard.b.push(e));
    c.broker.setNodeHandler((e) => heard.c.push(e));
    // b is in a room, c in none: both hear node events all the same.
    await b.broker.subscribe('lobby');
    const raw = new Redis(REDIS_URL!);
    cleanup.add(() => raw.quit());
    await raw.publish(`${p}nodes`, 'x#1\n{not json');
    await raw.publish(`${p}nodes`, 'x#1\n{"kind":"reboot"}');
    await raw.publish(`${p}nodes`, 'x#1\n{"kind":"session_ended","session":42}');
    const ended: NodeEvent = { kind: 'session_ended', session: 'ab'.repeat(32) };
    void a.broker.publishNode(ended);
    expect(heard.a).toEqual([ended]);
    await until('nodes b and c to hear it', () => heard.b.length >= 1 && heard.c.length >= 1, 5000);
    // A second event, from c: once every node has it, the bus has delivered
    // everything before it — a's own first event included, which a skipped.
    const second: NodeEvent = { kind: 'session_ended', session: 'cd'.repeat(32) };
    await c.broker.publishNode(second);
    await until('every node to hear the second', () => [heard.a, heard.b, heard.c].every((h) => h.length >= 2), 5000);
    await a.broker.publish(message('lobby', 1));
    await until('the room event', () => b.events.length >= 1, 5000);
    expect(heard).toEqual({ a: [ended, second], b: [ended, second], c: [ended, second] });
    // Node events are not room events.
    expect(b.events).toEqual([message('lobby', 1)]);
    expect(c.events).toEqual([]);
  });

  it('answers ping, and a broker pointed at a closed port fails to connect with a reason', async () => {
    const p = prefix();
    const a = await broker('a#1', p);
    expect(await a.broker.ping()).toBe(true);
    const dead = new RedisBroker('redis://127.0.0.1:1', { instanceId: 'x#1', prefix: p });
    await expect(dead.connect()).rejects.toThrow(/ECONNREFUSED|connect/i);
    await dead.close();
  });
});

describe.skipIf(!REDIS_URL)('RedisPresence (needs REDIS_URL)', () => {
  it('announces a user once across nodes: first arrival and last departure only', async () => {
    const p = prefix();
    const a = await presence('a#1', p);
    const b = await presence('b#1', p);
    expect(await a.arrive('lobby', 7, 'ann')).toBe(true);
    expect(await b.arrive('lobby', 7, 'ann')).toBe(false);
    expect(await b.arrive('lobby', 8, 'bob')).toBe(true);
    expect([...(await a.online('lobby'))].sort()).toEqual([7, 8]);
    expect(await a.depart('lobby', 7)).toBe(false); // still on b
    expect([...(await b.online('lobby'))].sort()).toEqual([7, 8]);
    expect(await b.depart('lobby', 7)).toBe(true);
    expect([...(await a.online('lobby'))]).toEqual([8]);
    expect([...(await a.online('elsewhere'))]).toEqual([]);
  });

  it('stops counting a node the moment it closes, and another node reaps and reports its users', async () => {
    const p = prefix();
    const a = await presence('a#1', p, 600);
    const b = await presence('b#1', p, 600);
    const expired: Array<[string, number, string]> = [];
    a.setExpiredHandler((room, userId, username) => expired.push([room, userId, username]));
    await a.arrive('lobby', 1, 'ann');
    await b.arrive('lobby', 2, 'bob');
    await b.arrive('lobby', 1, 'ann'); // ann also on b: not reported when b goes
    await b.close();
    expect([...(await a.online('lobby'))].sort()).toEqual([1]);
    await until('a to reap bob', () => expired.length > 0, 3000);
    await sleep(500);
    expect(expired).toEqual([['lobby', 2, 'bob']]);
  });

  it('expires a node that dies without closing (no heartbeat) within its TTL', async () => {
    const p = prefix();
    const a = await presence('a#1', p, 900);
    const expired: number[] = [];
    a.setExpiredHandler((_room, userId) => expired.push(userId));
    await a.arrive('lobby', 1, 'ann');
    // A node killed with SIGKILL: its liveness key and entries stay until the key expires.
    const raw = new Redis(REDIS_URL!);
    cleanup.add(() => raw.quit());
    await raw.set(`${p}instance:dead#1`, '1', 'PX', 900);
    await raw.hset(`${p}presence:lobby`, '5@dead#1', 'zed');
    expect([...(await a.online('lobby'))].sort()).toEqual([1, 5]);
    const started = Date.now();
    await until('the dead node to be reaped', () => expired.includes(5), 5000);
    const took = Date.now() - started;
    expect(took).toBeGreaterThan(300); // not before its TTL ran out
    expect([...(await a.online('lobby'))]).toEqual([1]);
    expect(await raw.hexists(`${p}presence:lobby`, '5@dead#1')).toBe(0);
  });

  it('puts its entries back when Redis lost them (a restart keeps nothing)', async () => {
    const p = prefix();
    const a = await presence('a#1', p, 600);
    await a.arrive('lobby', 1, 'ann');
    const raw = new Redis(REDIS_URL!);
    cleanup.add(() => raw.quit());
    await raw.del(`${p}presence:lobby`, `${p}instance:a#1`);
    expect([...(await a.online('lobby'))]).toEqual([]);
    await until('ann to be registered again', async () => (await a.online('lobby')).has(1), 3000);
  });
});
