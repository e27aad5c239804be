/**
 * The `message` event's hand-written JSON against what JSON.stringify makes
 * of the same event object, and against the contract's schema.
 */
import { MessageEvent } from '@chat/schema';
import { describe, expect, it } from 'vitest';
import { messageEventJson, toChatMessage } from '../src/chat/wire.js';
import type { MessageRecord } from '../src/storage/store.js';

const record = (over: Partial<MessageRecord> = {}): MessageRecord => ({
  id: 42,
  roomId: 'lobby',
  seq: 7,
  authorId: 3,
  author: 'ada',
  text: 'hello',
  clientMsgId: '0193a1b2c3d4-5e6f',
  ts: 1_763_822_400_123,
  editedAt: null,
  deletedAt: null,
  replyTo: null,
  replies: 0,
  reactions: [],
  pinnedAt: null,
  ...over,
});

const viaStringify = (room: string, m: MessageRecord, ref?: string | number): string => {
  const event: Record<string, unknown> = { type: 'message', room, ...toChatMessage(m) };
  if (ref !== undefined) event.ref = ref;
  return JSON.stringify(event);
};

// Strings that need escaping: quotes, backslashes, control characters, lone surrogates, non-ASCII.
const awkward = ['say "hi"', 'back\\slash', 'tab\there\nnew line\u0000\u001f', 'lone \ud800 high', 'lone \udc00 low', 'é😀 漢字', '</script>', ''];

describe('messageEventJson', () => {
  it('writes the same JSON text as JSON.stringify of the event object', () => {
    const cases: Array<[string, MessageRecord, (string | number)?]> = [
      ['lobby', record()],
      ['lobby', record(), 'r-1'],
      ['lobby', record(), 0],
      ['lobby', record(), 12345],
      ['lobby', record({ editedAt: 1_763_822_499_000 })],
      ['lobby', record({ deletedAt: 1_763_822_499_000, text: '' }), 'x'],
      ['lobby', record({ editedAt: 1, deletedAt: 2 }), 'both'],
      ['lobby', record({ id: Number.MAX_SAFE_INTEGER, seq: 2 ** 40, ts: 0 })],
      ['lobby', record({ replyTo: { id: 9, seq: 3, author: 'bo "b"', text: 'first\nline', deleted: false } }), 'reply'],
      ['lobby', record({ replyTo: { id: 9, seq: 3, author: 'bo', text: '', deleted: true }, replies: 4 })],
      ['lobby', record({ reactions: [{ emoji: '👍', users: ['ada', 'bo'] }, { emoji: ':tada:', users: ['cy'] }], pinnedAt: 5 }), 7],
    ];
    for (const text of awkward) {
      cases.push([text, record({ text, author: text, clientMsgId: text }), text]);
    }
    for (const [room, m, ref] of cases) {
      expect(messageEventJson(room, m, ref)).toBe(viaStringify(room, m, ref));
    }
  });

  it('is a valid message event of the contract', () => {
    for (const text of awkward) {
      const parsed = MessageEvent.safeParse(JSON.parse(messageEventJson('lobby', record({ text }), 'r')));
      expect(parsed.success).toBe(true);
      expect(parsed.data).toMatchObject({ type: 'message', room: 'lobby', text, ref: 'r', seq: 7 });
    }
    const rich = record({ replyTo: { id: 9, seq: 3, author: 'bo', text: 'hi', deleted: false }, replies: 2, reactions: [{ emoji: '👍', users: ['ada', 'bo'] }], pinnedAt: 5 });
    const parsed = MessageEvent.parse(JSON.parse(messageEventJson('lobby', rich)));
    expect(parsed).toMatchObject({ replyTo: { id: 9, author: 'bo' }, replies: 2, reactions: [{ emoji: '👍', count: 2, users: ['ada', 'bo'] }], pinned: true });
  });
});
