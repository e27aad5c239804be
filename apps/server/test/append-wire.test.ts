import { describe, expect, test } from 'vitest';
import {
  fromColumns,
  fromOutcomes,
  markDuplicate,
  markRoomGone,
  markStored,
  newOutcomes,
  toColumns,
} from '../src/storage/sqlite/append-wire.js';
import type { AppendResult, MessageRecord, NewMessage } from '../src/storage/store.js';

const batch: NewMessage[] = [
  { roomId: 'lobby', authorId: 7, text: 'hello', clientMsgId: 'a-1', ts: 1_700_000_000_123 },
  { roomId: 'lobby', authorId: 7, text: 'again', clientMsgId: 'a-0', ts: 1_700_000_000_124 },
  { roomId: 'gone', authorId: 9, text: 'x', clientMsgId: 'b-1', ts: 1_700_000_000_125 },
  { roomId: 'dev', authorId: 2 ** 40, text: '😀 ünïcode', clientMsgId: 'c-1', ts: 1_700_000_000_126 },
];

const earlier: MessageRecord = {
  id: 3,
  roomId: 'lobby',
  seq: 2,
  authorId: 7,
  author: 'ann',
  text: 'again (first time)',
  clientMsgId: 'a-0',
  ts: 1_600_000_000_000,
  editedAt: 1_600_000_000_500,
  deletedAt: null,
  replyTo: null,
  replies: 0,
  reactions: [],
  pinnedAt: null,
};

describe('append wire (the writer thread\'s compact form of a batch and its results)', () => {
  test('a batch survives the trip through columns, structured clone included', () => {
    expect(fromColumns(structuredClone(toColumns(batch)))).toEqual(batch);
  });

  test('a reply keeps its parent id across, and mentions stay with their message', () => {
    const quote = { id: 77, seq: 5, author: 'bo', text: 'the question', deleted: false };
    const rich: NewMessage[] = [
      { roomId: 'lobby', authorId: 7, text: '@bo @cy yes', clientMsgId: 'r-1', ts: 1, replyTo: quote, mentions: [8, 9] },
      { roomId: 'lobby', authorId: 7, text: 'plain', clientMsgId: 'r-2', ts: 2 },
      { roomId: 'dev', authorId: 7, text: '@room', clientMsgId: 'r-3', ts: 3, mentions: [2 ** 40] },
    ];
    const across = fromColumns(structuredClone(toColumns(rich)));
    expect(across.map((m) => m.replyTo?.id)).toEqual([77, undefined, undefined]);
    expect(across.map((m) => m.mentions)).toEqual([[8, 9], undefined, [2 ** 40]]);
    // The quote itself stays on the event loop's side: the stored record is built from the batch it kept.
    const marked = newOutcomes(rich.length);
    markStored(marked, 0, 100, 6);
    markStored(marked, 1, 101, 7);
    markStored(marked, 2, 102, 1);
    const [first] = fromOutcomes(rich, marked, () => 'ann');
    expect(first).toMatchObject({ status: 'stored', message: { id: 100, replyTo: quote, replies: 0, reactions: [] } });
  });

  test('results come back whole: stored records rebuilt from the batch, duplicates and refusals as they were', () => {
    const stored = (m: NewMessage, id: number, seq: number, author: string): AppendResult => ({
      status: 'stored',
      message: { id, roomId: m.roomId, seq, authorId: m.authorId, author, text: m.text, clientMsgId: m.clientMsgId, ts: m.ts, editedAt: null, deletedAt: null, replyTo: null, replies: 0, reactions: [], pinnedAt: null },
    });
    const names = new Map([
      [7, 'ann'],
      [2 ** 40, 'dee'],
    ]);
    const results: AppendResult[] = [
      stored(batch[0]!, 41, 12, 'ann'),
      { status: 'duplicate', message: earlier },
      { status: 'room_gone' },
      stored(batch[3]!, 42, 1, 'dee'),
    ];
    const marked = newOutcomes(batch.length);
    markStored(marked, 0, 41, 12);
    markDuplicate(marked, 1, earlier);
    markRoomGone(marked, 2);
    markStored(marked, 3, 42, 1);
    const outcomes = structuredClone(marked);
    // Only what the database chose crosses for a stored message: no text, no ids of the batch.
    expect(outcomes.duplicates).toEqual([earlier]);
    expect(JSON.stringify(outcomes)).not.toContain('hello');
    expect(fromOutcomes(batch, outcomes, (id) => names.get(id) ?? '?')).toEqual(results);
  });

  test('columns or outcomes that do not match the batch are refused, not misattributed', () => {
    const columns = toColumns(batch);
    columns.texts.pop();
    expect(() => fromColumns(columns)).toThrow(/different lengths/);
    const outcomes = newOutcomes(1);
    markRoomGone(outcomes, 0);
    expect(() => fromOutcomes(batch, outcomes, () => '')).toThrow(/1 outcomes for 4 messages/);
  });
});
