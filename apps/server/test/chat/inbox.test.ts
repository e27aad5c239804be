import type { ClientMessage } from '@chat/schema';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain-error.js';
import { Inbox } from '../../src/chat/inbox.js';
import { PeerState } from '../../src/chat/peer-state.js';
import { FakePeer, until } from './fakes.js';

const LIMITS = { messagesPerSecond: 10, joinsPerMinute: 10 };
const state = () => new PeerState(new FakePeer({ id: 1, username: 'alice' }), LIMITS);
const peerOf = (s: PeerState) => s.peer as FakePeer;
const read = (ref: number): string => JSON.stringify({ type: 'read', room: 'general', seq: 0, ref });

describe('a connection inbox', () => {
  it('handles one message at a time, in arrival order, however long each takes', async () => {
    const handled: Array<string | number | undefined> = [];
    const inbox = new Inbox(async (_state, msg: ClientMessage) => {
      // The first takes longest: were they handled at once, it would finish last.
      await new Promise((resolve) => setTimeout(resolve, msg.ref === 0 ? 30 : 1));
      handled.push(msg.ref);
    });
    const s = state();
    for (let i = 0; i < 5; i++) inbox.receive(s, read(i));
    await until(() => handled.length === 5, 'five handled');
    expect(handled).toEqual([0, 1, 2, 3, 4]);
  });

  it('answers bad JSON and invalid messages with their codes (and the ref, when it can read one), and goes on', async () => {
    const handled: ClientMessage[] = [];
    const inbox = new Inbox((_state, msg) => void handled.push(msg));
    const s = state();
    inbox.receive(s, '{not json');
    inbox.receive(s, JSON.stringify({ type: 'send', room: 'general', ref: 7 }));
    inbox.receive(s, read(8));
    expect(peerOf(s).of('error').map((e) => [e.code, e.ref])).toEqual([
      ['bad_json', undefined],
      ['invalid_message', 7],
    ]);
    expect(peerOf(s).of('error')[1]!.message).toMatch(/^text: |^clientMsgId: /);
    expect(handled.map((m) => m.ref)).toEqual([8]);
  });

  it('answers a refusal with its code, ref and room; anything else as internal, reported', () => {
    const reported: unknown[] = [];
    const inbox = new Inbox(
      (_state, msg) => {
        if (msg.ref === 1) throw new DomainError('forbidden', 'join general first');
        throw new Error('bug');
      },
      { unexpected: (err) => reported.push(err) },
    );
    const s = state();
    inbox.receive(s, read(1));
    inbox.receive(s, read(2));
    expect(peerOf(s).of('error').map((e) => [e.code, e.ref, e.room, e.message])).toEqual([
      ['forbidden', 1, 'general', 'join general first'],
      ['internal', 2, 'general', 'the server could not handle this request'],
    ]);
    expect(reported).toHaveLength(1);
  });

  it('ends a connection that keeps collecting rate refusals, and reads nothing from it after', () => {
    let handled = 0;
    const inbox = new Inbox(
      () => {
        handled++;
        throw new DomainError('rate_limited', 'slow down');
      },
      { maxStrikes: 3 },
    );
    const s = state();
    for (let i = 0; i < 5; i++) inbox.receive(s, read(i));
    expect(peerOf(s).ended).toEqual(['abusive']);
    expect(handled).toBe(3);
  });

  it('forgives: an accepted request in between resets the count', () => {
    const inbox = new Inbox(
      (st, msg) => {
        if (msg.ref === 'ok') st.strikes = 0;
        else throw new DomainError('rate_limited', 'slow down');
      },
      { maxStrikes: 3 },
    );
    const s = state();
    for (let i = 0; i < 10; i++) inbox.receive(s, i % 2 === 0 ? read(i) : JSON.stringify({ type: 'read', room: 'general', seq: 0, ref: 'ok' }));
    expect(peerOf(s).ended).toEqual([]);
  });
});
