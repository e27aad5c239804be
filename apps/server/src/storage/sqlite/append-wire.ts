import { storedMessage } from '../message-row.js';
import type { AppendResult, MessageRecord, NewMessage } from '../store.js';

/**
 * How a batch of chat messages and its results cross between the event loop
 * and the writer thread. postMessage copies with the structured clone
 * algorithm, whose cost grows with every object and property it meets, and
 * the event loop pays it on both legs, per message. So a batch goes as a few
 * columns, and its answer as number arrays: the event loop already holds
 * every field of a stored message except the two the database chose (row id
 * and seq). A duplicate's earlier row, which it cannot know, comes back whole.
 */
export interface AppendColumns {
  roomIds: string[];
  authorIds: Float64Array;
  texts: string[];
  clientMsgIds: string[];
  ts: Float64Array;
  /** The parent's id of a reply, 0 for the others. */
  replyIds: Float64Array;
  /** How many members each message mentions; their ids, message after message, in `mentionIds`. */
  mentionCounts: Uint32Array;
  mentionIds: Float64Array;
  /** How many files each message carries; their ids, message after message, in `attachmentIds`. */
  attachmentCounts: Uint32Array;
  attachmentIds: string[];
}

export interface AppendOutcomes {
  /** Per message: OUTCOME_STORED, OUTCOME_DUPLICATE, OUTCOME_ROOM_GONE or OUTCOME_FILES_TAKEN. */
  kinds: Uint8Array;
  /** Row id and seq of each stored message (0 for the others). */
  ids: Float64Array;
  seqs: Float64Array;
  /** The stored rows of the duplicates, in batch order. */
  duplicates: MessageRecord[];
}

const OUTCOME_STORED = 0;
const OUTCOME_DUPLICATE = 1;
const OUTCOME_ROOM_GONE = 2;
const OUTCOME_FILES_TAKEN = 3;

export function toColumns(batch: readonly NewMessage[]): AppendColumns {
  const n = batch.length;
  const columns: AppendColumns = {
    roomIds: new Array<string>(n),
    authorIds: new Float64Array(n),
    texts: new Array<string>(n),
    clientMsgIds: new Array<string>(n),
    ts: new Float64Array(n),
    replyIds: new Float64Array(n),
    mentionCounts: new Uint32Array(n),
    mentionIds: new Float64Array(0),
    attachmentCounts: new Uint32Array(n),
    attachmentIds: [],
  };
  const mentions: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = batch[i]!;
    columns.roomIds[i] = m.roomId;
    columns.authorIds[i] = m.authorId;
    columns.texts[i] = m.text;
    columns.clientMsgIds[i] = m.clientMsgId;
    columns.ts[i] = m.ts;
    if (m.replyTo) columns.replyIds[i] = m.replyTo.id;
    if (m.mentions) {
      columns.mentionCounts[i] = m.mentions.length;
      for (const id of m.mentions) mentions.push(id);
    }
    if (m.attachments) {
      columns.attachmentCounts[i] = m.attachments.length;
      for (const a of m.attachments) columns.attachmentIds.push(a.id);
    }
  }
  if (mentions.length > 0) columns.mentionIds = Float64Array.from(mentions);
  return columns;
}

export function fromColumns(columns: AppendColumns): NewMessage[] {
  const { roomIds, authorIds, texts, clientMsgIds, ts, replyIds, mentionCounts, mentionIds, attachmentCounts, attachmentIds } = columns;
  const n = roomIds.length;
  if (
    authorIds.length !== n ||
    texts.length !== n ||
    clientMsgIds.length !== n ||
    ts.length !== n ||
    replyIds.length !== n ||
    mentionCounts.length !== n ||
    attachmentCounts.length !== n
  ) {
    throw new Error('append columns of different lengths');
  }
  const batch = new Array<NewMessage>(n);
  let mention = 0;
  let attachment = 0;
  for (let i = 0; i < n; i++) {
    const m: NewMessage = { roomId: roomIds[i]!, authorId: authorIds[i]!, text: texts[i]!, clientMsgId: clientMsgIds[i]!, ts: ts[i]! };
    // The thread stores only the parent's id; the event loop kept the whole quote.
    if (replyIds[i]) m.replyTo = { id: replyIds[i]!, seq: 0, author: '', text: '', deleted: false };
    const count = mentionCounts[i]!;
    if (count > 0) {
      m.mentions = Array.from(mentionIds.subarray(mention, mention + count));
      mention += count;
    }
    const files = attachmentCounts[i]!;
    if (files > 0) {
      // The thread stores only the ids; the event loop kept the whole records.
      m.attachments = attachmentIds
        .slice(attachment, attachment + files)
        .map((id) => ({ id, name: '', size: 0, contentType: '', width: null, height: null, thumbnail: false }));
      attachment += files;
    }
    batch[i] = m;
  }
  if (mention !== mentionIds.length || attachment !== attachmentIds.length) throw new Error('append columns of different lengths');
  return batch;
}

/** Outcomes for a batch of `n` messages, each filled in by one of the `mark…` functions below. */
export function newOutcomes(n: number): AppendOutcomes {
  return { kinds: new Uint8Array(n), ids: new Float64Array(n), seqs: new Float64Array(n), duplicates: [] };
}

export function markStored(outcomes: AppendOutcomes, i: number, id: number, seq: number): void {
  outcomes.kinds[i] = OUTCOME_STORED;
  outcomes.ids[i] = id;
  outcomes.seqs[i] = seq;
}

/** Duplicates must be marked in batch order: their rows are matched up by position. */
export function markDuplicate(outcomes: AppendOutcomes, i: number, stored: MessageRecord): void {
  outcomes.kinds[i] = OUTCOME_DUPLICATE;
  outcomes.duplicates.push(stored);
}

export function markRoomGone(outcomes: AppendOutcomes, i: number): void {
  outcomes.kinds[i] = OUTCOME_ROOM_GONE;
}

export function markFilesTaken(outcomes: AppendOutcomes, i: number): void {
  outcomes.kinds[i] = OUTCOME_FILES_TAKEN;
}

/** The results of `batch` (the array `toColumns` was given) from what the writer answered. */
export function fromOutcomes(batch: readonly NewMessage[], outcomes: AppendOutcomes, authorName: (id: number) => string): AppendResult[] {
  const { kinds, ids, seqs, duplicates } = outcomes;
  if (kinds.length !== batch.length) throw new Error(`${kinds.length} outcomes for ${batch.length} messages`);
  const results = new Array<AppendResult>(batch.length);
  let duplicate = 0;
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]!;
    switch (kinds[i]) {
      case OUTCOME_STORED:
        results[i] = { status: 'stored', message: storedMessage(m, ids[i]!, seqs[i]!, authorName(m.authorId)) };
        break;
      case OUTCOME_DUPLICATE:
        results[i] = { status: 'duplicate', message: duplicates[duplicate++]! };
        break;
      case OUTCOME_FILES_TAKEN:
        results[i] = { status: 'files_taken' };
        break;
      default:
        results[i] = { status: 'room_gone' };
    }
  }
  return results;
}
