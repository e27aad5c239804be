import type { ErrorCode, ServerMessage } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import { OutgoingEvent, type ChatPeer } from './peer.js';
import { TokenBucket } from './rate-limiter.js';
import type { RoomCursor } from './room-delivery.js';

/** A client message's `ref`, echoed on every answer to it. */
export type Ref = string | number | undefined;

/** The rooms of a connection that has joined none: one empty map for all of them. */
const NO_ROOMS: ReadonlyMap<string, RoomCursor> = new Map();

export interface PeerLimits {
  /** Sends (and edits, deletes) per second of one connection. */
  messagesPerSecond: number;
  joinsPerMinute: number;
}

/** A connection's state in the domain: its rooms, its rate limits, its inbox. */
export class PeerState {
  /** Made on the first join: an idle connection carries no map of its own. */
  private roomMap: Map<string, RoomCursor> | undefined;
  // The buckets are made on first use: a full bucket then is what one made at
  // connect time would hold by then, and an idle connection carries neither.
  private sendBucket: TokenBucket | undefined;
  private joinBucket: TokenBucket | undefined;
  /** Messages waiting behind the one being handled; created on the first wait (most connections never need it). */
  inbox: string[] | undefined;
  processing = false;
  strikes = 0;
  closed = false;
  /**
   * Sends of this connection being stored, by clientMsgId → ref: a gap filled
   * from the store that meets one answers it there (its ack), so the live
   * copy that follows is not a second delivery. Made on the first send with a ref.
   */
  private owedAcks: Map<string, Ref> | undefined;

  constructor(
    readonly peer: ChatPeer,
    private readonly limits: PeerLimits,
    private readonly onError?: (code: ErrorCode) => void,
  ) {}

  /** The rooms this connection has joined, by id. */
  get rooms(): ReadonlyMap<string, RoomCursor> {
    return this.roomMap ?? NO_ROOMS;
  }
  addRoom(roomId: string, cursor: RoomCursor): void {
    (this.roomMap ??= new Map()).set(roomId, cursor);
  }
  /** The room's cursor, for a request that needs the connection to have joined it. */
  joined(roomId: string): RoomCursor {
    const cursor = this.roomMap?.get(roomId);
    if (!cursor) throw new DomainError('forbidden', `join ${roomId} first`);
    return cursor;
  }
  /** Whether it had joined the room. */
  removeRoom(roomId: string): boolean {
    return this.roomMap?.delete(roomId) ?? false;
  }

  /** Messages per second of this connection. */
  sends(now: number): TokenBucket {
    const rate = this.limits.messagesPerSecond;
    return (this.sendBucket ??= new TokenBucket(rate, rate * 2, now));
  }
  /** Joins per minute of this connection. */
  joins(now: number): TokenBucket {
    const perMinute = this.limits.joinsPerMinute;
    return (this.joinBucket ??= new TokenBucket(perMinute / 60, Math.max(1, Math.min(perMinute, 20)), now));
  }

  /** A send with this clientMsgId and ref is being stored; `settled` once it is answered. */
  sending(clientMsgId: string, ref: Ref): void {
    if (ref !== undefined) (this.owedAcks ??= new Map()).set(clientMsgId, ref);
  }
  settled(clientMsgId: string): void {
    this.owedAcks?.delete(clientMsgId);
  }
  /** The ref a stored message of this connection's user is still owed its ack under, if it is. */
  owedAck(message: { authorId: number; clientMsgId: string }): Ref {
    return message.authorId === this.peer.user.id ? this.owedAcks?.get(message.clientMsgId) : undefined;
  }

  reply(event: ServerMessage): void {
    if (!this.closed) this.peer.send(OutgoingEvent.of(event));
  }
  error(code: ErrorCode, message: string, ref?: Ref, room?: string): void {
    this.onError?.(code);
    const event: ServerMessage = { type: 'error', code, message };
    if (room !== undefined) event.room = room;
    if (ref !== undefined) event.ref = ref;
    this.reply(event);
  }
}
