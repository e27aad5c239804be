import type { ChatStore, MessageRecord, RoomRecord } from '../storage/store.js';
import type { RoomEvent } from './events.js';
import { OutgoingEvent } from './peer.js';
import type { PeerState, Ref } from './peer-state.js';
import { messageEventJson } from './wire.js';

/** Messages a plain `join` (and a `history` without `limit`) answers with. */
export const JOIN_HISTORY = 50;

/** Delivery state of one room on one connection: what it has seen, in `seq` order. */
export class RoomCursor {
  /** Highest seq delivered; everything up to it has been delivered once, in order. */
  delivered = 0;
  /** While true, live messages wait in `pending` (history being read, or a gap being filled). */
  replaying = true;
  /** `ack`: the sender's own copy (with its `ref`), owed even when the message was already delivered. */
  pending: Array<{ seq: number; event: OutgoingEvent; ack: boolean }> = [];
  // The room's state as the rules (access.ts) read it on the send path, without a
  // database lookup; kept current by `room_updated` events.
  archived = false;
  private = false;
  /** Joined with `presence: "batched"`: presence comes as `presence_batch` (presence-batches.ts). */
  batchedPresence = false;
  /** When this connection last announced typing here (ms; coalescing). */
  typingAt = 0;
  /** Seqs of this connection's own sends acked from a store read: their live copies are not sent again. */
  ackedFromStore: Set<number> | undefined;
}

/** What a join answers with: history, and the seq the cursor starts from. */
export interface Replay {
  history: MessageRecord[];
  truncated: boolean;
  delivered: number;
}

export type MessageEvent = Extract<RoomEvent, { kind: 'message' }>;

const messageEvent = (roomId: string, m: MessageRecord, ref?: Ref): OutgoingEvent => new OutgoingEvent(messageEventJson(roomId, m, ref));

/**
 * Delivers a message read from the store. One of this connection's own sends
 * goes out as its ack (with its ref), never as a plain copy followed by the
 * ack: the ack already waiting (it came in while the store was read) is sent
 * in its place; one still being stored is answered here, and its live copy,
 * arriving afterwards, finds it delivered and answered.
 */
function sendStored(state: PeerState, cursor: RoomCursor, roomId: string, m: MessageRecord): void {
  cursor.delivered = m.seq;
  const waiting = cursor.pending.findIndex((p) => p.ack && p.seq === m.seq);
  if (waiting >= 0) {
    state.peer.send(cursor.pending.splice(waiting, 1)[0]!.event);
    return;
  }
  const ref = state.owedAck(m);
  if (ref !== undefined) (cursor.ackedFromStore ??= new Set()).add(m.seq);
  state.peer.send(messageEvent(roomId, m, ref));
}

/** The sender's copy of a message it has had already: its ack, unless a store read answered it. */
function answerAgain(state: PeerState, cursor: RoomCursor, seq: number, out: OutgoingEvent): void {
  if (cursor.ackedFromStore?.delete(seq)) return;
  state.peer.send(out);
}

/**
 * Room delivery: every connection gets each message of a room exactly once,
 * in `seq` order, whatever order nodes publish in. A cursor per (connection,
 * room) drops what it has seen, holds what arrives while history is read, and
 * fills a gap (another node's message not heard of yet) from the store before
 * delivering what came after it.
 */
export class RoomDelivery {
  constructor(
    private readonly store: Pick<ChatStore, 'messagesAfter' | 'messagesBefore'>,
    private readonly maxReplayMessages: number,
    private readonly failed: (state: PeerState, err: unknown) => void,
  ) {}

  /** History for a join: the latest messages, or what was missed since `since` (latest again if too much). */
  async replay(roomId: string, room: RoomRecord, since: number | undefined): Promise<Replay> {
    if (since === undefined) {
      const history = (await this.store.messagesBefore(roomId, undefined, JOIN_HISTORY)).reverse();
      return { history, truncated: false, delivered: history.length > 0 ? history[history.length - 1]!.seq : 0 };
    }
    // A cursor past the room's end (a stale or made-up one) counts from the end.
    const from = Math.min(since, room.lastSeq);
    const missed = await this.store.messagesAfter(roomId, from, this.maxReplayMessages + 1);
    if (missed.length > this.maxReplayMessages) {
      const history = (await this.store.messagesBefore(roomId, undefined, JOIN_HISTORY)).reverse();
      return { history, truncated: true, delivered: history.length > 0 ? history[history.length - 1]!.seq : from };
    }
    return { history: missed, truncated: false, delivered: missed.length > 0 ? missed[missed.length - 1]!.seq : from };
  }

  /** A committed message reaches every local connection in its room. */
  deliver(peers: Iterable<PeerState>, event: MessageEvent): void {
    // Encoded once for all; only the sender's copy differs (it carries `ref`). The shared
    // copy is made on first use: a sender alone in its room needs only its own.
    let shared: OutgoingEvent | undefined;
    const seq = event.message.seq;
    for (const state of peers) {
      const cursor = state.rooms.get(event.room);
      if (!cursor) continue;
      const own = event.replyTo !== undefined && event.replyTo.connectionId === state.peer.connectionId;
      const out = own ? messageEvent(event.room, event.message, event.replyTo!.ref) : (shared ??= messageEvent(event.room, event.message));
      if (cursor.replaying) {
        cursor.pending.push({ seq, event: out, ack: own });
      } else if (seq === cursor.delivered + 1) {
        cursor.delivered = seq;
        state.peer.send(out);
      } else if (seq <= cursor.delivered) {
        // Seen already (a re-sent message): only its sender is owed an answer.
        if (own) answerAgain(state, cursor, seq, out);
      } else {
        // A gap (another node's message not seen yet): fill it from the store, in order.
        cursor.replaying = true;
        cursor.pending.push({ seq, event: out, ack: own });
        this.catchUp(state, event.room, cursor).catch((err: unknown) => this.failed(state, err));
      }
    }
  }

  /**
   * Delivers what the store holds past the cursor (events lost on the way: the
   * bus was cut off), then what queued up meanwhile; a cursor already
   * replaying is caught up by what is replaying it. A failure ends the
   * connection, as a failed gap fill does (the client resumes with `since`).
   */
  resync(state: PeerState, roomId: string, cursor: RoomCursor): void {
    if (cursor.replaying) return;
    cursor.replaying = true;
    this.readMissed(state, roomId, cursor).catch((err: unknown) => this.failed(state, err));
  }

  private async readMissed(state: PeerState, roomId: string, cursor: RoomCursor): Promise<void> {
    for (;;) {
      const from = cursor.delivered;
      const missed = await this.store.messagesAfter(roomId, from, JOIN_HISTORY);
      if (state.closed || state.rooms.get(roomId) !== cursor) return;
      for (const m of missed) {
        if (m.seq !== cursor.delivered + 1) break;
        sendStored(state, cursor, roomId, m);
      }
      if (missed.length < JOIN_HISTORY || cursor.delivered === from) break;
    }
    await this.catchUp(state, roomId, cursor);
  }

  /** Delivers what queued up while `cursor` was replaying, filling gaps from the store; then live again. */
  async catchUp(state: PeerState, roomId: string, cursor: RoomCursor): Promise<void> {
    for (;;) {
      const next = cursor.pending.shift();
      if (!next) break;
      if (next.seq <= cursor.delivered) {
        if (next.ack) answerAgain(state, cursor, next.seq, next.event);
        continue;
      }
      if (next.seq > cursor.delivered + 1) {
        const missing = await this.store.messagesAfter(roomId, cursor.delivered, next.seq - cursor.delivered - 1);
        // Left (or rejoined, with a new cursor) while reading: that cursor is someone else's business now.
        if (state.closed || state.rooms.get(roomId) !== cursor) return;
        for (const m of missing) {
          if (m.seq > cursor.delivered) sendStored(state, cursor, roomId, m);
        }
      }
      if (next.seq === cursor.delivered + 1) {
        state.peer.send(next.event);
        cursor.delivered = next.seq;
      }
    }
    cursor.replaying = false;
  }
}
