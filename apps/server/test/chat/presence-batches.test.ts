import { describe, expect, it } from 'vitest';
import { PeerState } from '../../src/chat/peer-state.js';
import { PresenceBatches } from '../../src/chat/presence-batches.js';
import { RoomCursor } from '../../src/chat/room-delivery.js';
import { FakePeer } from './fakes.js';

const LIMITS = { messagesPerSecond: 10, joinsPerMinute: 10 };
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Connections in one room (`batched`: joined with `presence: "batched"`), and the batches over them. */
function room(members: Array<{ id: number; username: string; batched: boolean }>) {
  const peers = new Set<PeerState>();
  const byName = new Map<string, FakePeer>();
  for (const m of members) {
    const peer = new FakePeer({ id: m.id, username: m.username });
    const state = new PeerState(peer, LIMITS);
    const cursor = new RoomCursor();
    cursor.batchedPresence = m.batched;
    state.addRoom('general', cursor);
    peers.add(state);
    byName.set(m.username, peer);
  }
  const batches = new PresenceBatches({ peers: (id) => (id === 'general' ? peers : undefined) });
  const online = (id: number, user: string) => batches.add({ kind: 'presence', room: 'general', userId: id, user, state: 'online' });
  const offline = (id: number, user: string) => batches.add({ kind: 'presence', room: 'general', userId: id, user, state: 'offline' });
  return { batches, peer: (name: string) => byName.get(name)!, online, offline };
}

describe('presence batches', () => {
  it('gathers the arrivals of one turn into one presence_batch per batched connection, sent at the end of the turn', async () => {
    const r = room([{ id: 1, username: 'watcher', batched: true }]);
    r.online(2, 'alice');
    r.online(3, 'bob');
    r.online(4, 'carol');
    expect(r.peer('watcher').received).toEqual([]);
    await turn();
    expect(r.peer('watcher').received).toEqual([{ type: 'presence_batch', room: 'general', online: ['alice', 'bob', 'carol'], offline: [] }]);
  });

  it('names each user once, in their latest state of the turn', async () => {
    const r = room([{ id: 1, username: 'watcher', batched: true }]);
    r.online(2, 'alice');
    r.online(3, 'bob');
    r.offline(2, 'alice');
    await turn();
    expect(r.peer('watcher').received).toEqual([{ type: 'presence_batch', room: 'general', online: ['bob'], offline: ['alice'] }]);
  });

  it('never tells users of themselves: those named get the batch without them, and nothing when it named only them', async () => {
    const r = room([
      { id: 2, username: 'alice', batched: true },
      { id: 3, username: 'bob', batched: true },
      { id: 4, username: 'carol', batched: true },
    ]);
    r.online(2, 'alice');
    r.online(3, 'bob');
    await turn();
    expect(r.peer('alice').received).toEqual([{ type: 'presence_batch', room: 'general', online: ['bob'], offline: [] }]);
    expect(r.peer('bob').received).toEqual([{ type: 'presence_batch', room: 'general', online: ['alice'], offline: [] }]);
    expect(r.peer('carol').received).toEqual([{ type: 'presence_batch', room: 'general', online: ['alice', 'bob'], offline: [] }]);
    r.online(4, 'carol');
    await turn();
    expect(r.peer('carol').received).toHaveLength(1);
  });

  it('sends nothing to connections that did not ask for batches (the fan-out sends them one presence per user)', async () => {
    const r = room([
      { id: 1, username: 'today', batched: false },
      { id: 5, username: 'watcher', batched: true },
    ]);
    r.online(2, 'alice');
    await turn();
    expect(r.peer('today').received).toEqual([]);
    expect(r.peer('watcher').received).toHaveLength(1);
  });

  it('starts a new batch in the next turn', async () => {
    const r = room([{ id: 1, username: 'watcher', batched: true }]);
    r.online(2, 'alice');
    await turn();
    r.offline(2, 'alice');
    await turn();
    expect(r.peer('watcher').received).toEqual([
      { type: 'presence_batch', room: 'general', online: ['alice'], offline: [] },
      { type: 'presence_batch', room: 'general', online: [], offline: ['alice'] },
    ]);
  });
});
