import { ClientMessage, type ErrorCode, type ServerMessage } from '@chat/schema';
import type { ChatStore, MessageRecord, RoomRecord } from '../storage/store.js';
import { ChatError } from './chat-error.js';
import type { Broker, RoomEvent } from './events.js';
import { MessageWriter } from './message-writer.js';
import { OutgoingEvent, type ChatPeer } from './peer.js';
import { InProcessPresence, type PresenceRegistry } from './presence.js';
import { KeyedRateLimiter, TokenBucket } from './rate-limiter.js';
import { messageEventJson, toChatMessage } from './wire.js';

export interface ChatServiceOptions {
  /** Largest chat text in UTF-8 bytes (`too_large` beyond). */
  maxMessageBytes: number;
  /** How many missed messages a `join` with `since` replays before answering `truncated`. */
  maxReplayMessages: number;
  maxRoomsPerConnection: number;
  /** Sends (and edits, deletes) per second, per connection and per user. */
  messagesPerSecond: number;
  joinsPerMinute: number;
  /** At most one typing notice per user and room in this time. Default 2000. */
  typingIntervalMs?: number;
  /** Told what happens, for metrics. */
  observer?: ChatObserver;
  /** Who is online across nodes; default: this node only. */
  presence?: PresenceRegistry;
}

/** What the domain reports as it works (the server turns it into /metrics). */
export interface ChatObserver {
  committed(seconds: number, messages: number): void;
  fanout(recipients: number): void;
  error(code: ErrorCode): void;
  /** Something failed in the background (presence, broker) that no client request is waiting on. */
  background?(what: string, err: unknown): void;
}

/** Client messages waiting behind one still being handled, per connection. */
const MAX_INBOX = 256;
/** Rate-limit refusals in a row after which a connection is closed (1008). */
const MAX_STRIKES = 50;
const JOIN_HISTORY = 50;

type Ref = string | number | undefined;

/** The `ref` and `room` of a raw client message, if it has them (for answering one we will not handle). */
function peekRef(text: string): { ref: Ref; room: string | undefined } {
  try {
    const raw = JSON.parse(text) as { ref?: unknown; room?: unknown } | null;
    const ref = typeof raw?.ref === 'string' || typeof raw?.ref === 'number' ? raw.ref : undefined;
    return { ref, room: typeof raw?.room === 'string' ? raw.room : undefined };
  } catch {
    return { ref: undefined, room: undefined };
  }
}

/** Delivery state of one room on one connection: what it has seen, in `seq` order. */
class RoomCursor {
  /** Highest seq delivered; everything up to it has been delivered once, in order. */
  delivered = 0;
  /** While true, live messages wait in `pending` (history being read, or a gap being filled). */
  replaying = true;
  /** `ack`: the sender's own copy (with its `ref`), owed even when the message was already delivered. */
  pending: Array<{ seq: number; event: OutgoingEvent; ack: boolean }> = [];
  /** Archived rooms are read-only; kept current by `room_updated` events. */
  archived = false;
  /** When this connection last announced typing here (ms; coalescing). */
  typingAt = 0;
}

/** A connection's state in the domain. */
/** The rooms of a connection that has joined none: one empty map for all of them. */
const NO_ROOMS: ReadonlyMap<string, RoomCursor> = new Map();

class PeerState {
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
  /** The rooms this connection has joined, by id. */
  get rooms(): ReadonlyMap<string, RoomCursor> {
    return this.roomMap ?? NO_ROOMS;
  }
  addRoom(roomId: string, cursor: RoomCursor): void {
    (this.roomMap ??= new Map()).set(roomId, cursor);
  }
  /** Whether it had joined the room. */
  removeRoom(roomId: string): boolean {
    return this.roomMap?.delete(roomId) ?? false;
  }
  constructor(
    readonly peer: ChatPeer,
    private readonly options: ChatServiceOptions,
  ) {}
  /** Messages per second of this connection. */
  sends(now: number): TokenBucket {
    const rate = this.options.messagesPerSecond;
    return (this.sendBucket ??= new TokenBucket(rate, rate * 2, now));
  }
  /** Joins per minute of this connection. */
  joins(now: number): TokenBucket {
    const perMinute = this.options.joinsPerMinute;
    return (this.joinBucket ??= new TokenBucket(perMinute / 60, Math.max(1, Math.min(perMinute, 20)), now));
  }
  reply(event: ServerMessage): void {
    if (!this.closed) this.peer.send(OutgoingEvent.of(event));
  }
  error(code: ErrorCode, message: string, ref?: Ref, room?: string): void {
    this.options.observer?.error(code);
    const event: ServerMessage = { type: 'error', code, message };
    if (room !== undefined) event.room = room;
    if (ref !== undefined) event.ref = ref;
    this.reply(event);
  }
}

/** What the transport holds for one connection. */
export interface ChatConnection {
  /** A text message from the client (JSON expected). */
  receive(text: string): void;
  /** The connection is gone. */
  disconnect(): void;
}

/**
 * The chat domain: rooms, membership, delivery. Plain TypeScript — it is
 * handed a store and a broker, and talks to clients through `ChatPeer`.
 *
 * Delivery: a message is committed (group commit), then published; every
 * node's subscribers receive it in `seq` order, each connection exactly once —
 * a per-room cursor drops what it has seen and fills any gap from the store.
 */
export class ChatService {
  private readonly local = new Map<string, Set<PeerState>>();
  /** room → user id → local connections joined: the presence registry is told on 0 ↔ 1. */
  private readonly online = new Map<string, Map<number, number>>();
  private readonly presence: PresenceRegistry;
  private readonly userSends: KeyedRateLimiter;
  private readonly writer: MessageWriter;
  private readonly typingIntervalMs: number;

  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    private readonly options: ChatServiceOptions,
  ) {
    this.writer = new MessageWriter(store, (seconds, size) => options.observer?.committed(seconds, size));
    this.userSends = new KeyedRateLimiter(options.messagesPerSecond, options.messagesPerSecond * 2);
    this.typingIntervalMs = options.typingIntervalMs ?? 2000;
    this.presence = options.presence ?? new InProcessPresence();
    broker.setHandler((event) => this.onRoomEvent(event));
    // A node died with users in rooms: whoever noticed announces them offline.
    this.presence.setExpiredHandler((room, userId, user) => {
      this.publishQuietly({ kind: 'presence', room, userId, user, state: 'offline' });
    });
  }

  connect(peer: ChatPeer): ChatConnection {
    return new ServiceLink(this, new PeerState(peer, this.options));
  }

  /** Ids of the users joined to a room on any node. */
  async onlineUsers(room: string): Promise<ReadonlySet<number>> {
    try {
      return await this.presence.online(room);
    } catch (err) {
      // Presence is advisory: without the registry, report this node's own view.
      this.options.observer?.background?.('presence', err);
      return new Set(this.online.get(room)?.keys() ?? []);
    }
  }

  /** Leaves of closed connections still talking to the broker and the presence registry. */
  private readonly leaving = new Set<Promise<void>>();

  /** Commits everything accepted so far and lets closed connections finish leaving (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.leaving.size > 0) await Promise.allSettled([...this.leaving]);
    await this.writer.drain();
  }

  // ---- admin actions (called by the REST layer) -------------------------

  async updateRoom(room: RoomRecord): Promise<void> {
    await this.broker.publish({
      kind: 'room_updated',
      room: room.id,
      title: room.title,
      topic: room.topic,
      private: room.private,
      archived: room.archived,
    });
  }

  async roomDeleted(roomId: string): Promise<void> {
    await this.broker.publish({ kind: 'room_deleted', room: roomId });
  }

  async memberRemoved(roomId: string, userId: number, reason: 'kicked' | 'banned'): Promise<void> {
    await this.broker.publish({ kind: 'member_removed', room: roomId, userId, reason });
  }

  async messageUpdated(message: MessageRecord): Promise<void> {
    await this.broker.publish({ kind: 'message_updated', room: message.roomId, message });
  }

  // ---- inbound ------------------------------------------------------------

  /** @internal Messages of one connection are handled in order; a slow one (a join) holds the next. */
  receive(state: PeerState, text: string): void {
    if (state.closed) return;
    if (state.processing) {
      state.inbox ??= [];
      if (state.inbox.length >= MAX_INBOX) {
        // Refused unread, but answered with its ref (and room) so the client knows which one.
        const { ref, room } = peekRef(text);
        state.error('rate_limited', 'too many requests in flight', ref, room);
        this.strike(state);
        return;
      }
      state.inbox.push(text);
      return;
    }
    this.process(state, text);
  }

  private process(state: PeerState, text: string): void {
    const pending = this.dispatch(state, text);
    if (!pending) return;
    state.processing = true;
    void pending.finally(() => {
      state.processing = false;
      while (state.inbox && state.inbox.length > 0 && !state.processing && !state.closed) {
        this.process(state, state.inbox.shift()!);
      }
    });
  }

  private dispatch(state: PeerState, text: string): Promise<void> | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      state.error('bad_json', 'the message is not valid JSON');
      return undefined;
    }
    const parsed = ClientMessage.safeParse(raw);
    const rawRef = (raw as { ref?: unknown } | null)?.ref;
    const ref = typeof rawRef === 'string' || typeof rawRef === 'number' ? rawRef : undefined;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      state.error('invalid_message', `${where}${issue?.message ?? 'invalid message'}`, ref);
      return undefined;
    }
    const msg = parsed.data;
    const guard = (work: () => Promise<void> | void): Promise<void> | undefined => {
      try {
        const result = work();
        return result ? result.catch((err) => this.fail(state, err, msg.ref, msg.room)) : undefined;
      } catch (err) {
        this.fail(state, err, msg.ref, msg.room);
        return undefined;
      }
    };
    switch (msg.type) {
      case 'join':
        return guard(() => this.join(state, msg.room, msg.since, msg.ref));
      case 'leave':
        return guard(() => this.leave(state, msg.room, msg.ref));
      case 'send':
        return guard(() => this.send(state, msg.room, msg.text, msg.clientMsgId, msg.ref));
      case 'history':
        return guard(() => this.history(state, msg.room, msg.before, msg.limit ?? JOIN_HISTORY, msg.ref));
      case 'typing':
        return guard(() => this.typing(state, msg.room));
      case 'edit':
        return guard(() => this.edit(state, msg.room, msg.id, msg.text, msg.ref));
      case 'delete':
        return guard(() => this.remove(state, msg.room, msg.id, msg.ref));
      case 'read':
        return guard(() => this.read(state, msg.room, msg.seq, msg.ref));
    }
  }

  private fail(state: PeerState, err: unknown, ref: Ref, room?: string): void {
    if (err instanceof ChatError) {
      state.error(err.code, err.message, ref, room);
      if (err.code === 'rate_limited') this.strike(state);
      return;
    }
    state.error('internal', 'the server could not handle this request', ref, room);
  }

  /** Sustained abuse: every refusal counts, any accepted action forgives. */
  private strike(state: PeerState): void {
    if (++state.strikes >= MAX_STRIKES) {
      state.closed = true;
      state.peer.close(1008, 'rate limit exceeded');
    }
  }

  private checkText(text: string): void {
    if (Buffer.byteLength(text) > this.options.maxMessageBytes) {
      throw new ChatError('too_large', `a message is at most ${this.options.maxMessageBytes} bytes`);
    }
  }

  private takeSend(state: PeerState): void {
    const now = Date.now();
    if (!state.sends(now).take(now) || !this.userSends.take(String(state.peer.user.id), now)) {
      throw new ChatError('rate_limited', 'slow down: too many messages');
    }
    state.strikes = 0;
  }

  private async visibleRoom(state: PeerState, roomId: string): Promise<RoomRecord> {
    const room = await this.store.getRoom(roomId);
    if (!room) throw new ChatError('not_found', `no room ${roomId}`);
    const userId = state.peer.user.id;
    if (await this.store.isBanned(roomId, userId)) throw new ChatError('forbidden', 'you are banned from this room');
    if (room.private && !(await this.store.isMember(roomId, userId))) {
      throw new ChatError('forbidden', 'this room is private');
    }
    return room;
  }

  private joined(state: PeerState, roomId: string): RoomCursor {
    const cursor = state.rooms.get(roomId);
    if (!cursor) throw new ChatError('forbidden', `join ${roomId} first`);
    return cursor;
  }

  private async join(state: PeerState, roomId: string, since: number | undefined, ref: Ref): Promise<void> {
    const rejoin = state.rooms.has(roomId);
    if (!rejoin && state.rooms.size >= this.options.maxRoomsPerConnection) {
      throw new ChatError('forbidden', `a connection joins at most ${this.options.maxRoomsPerConnection} rooms`);
    }
    const now = Date.now();
    if (!state.joins(now).take(now)) throw new ChatError('rate_limited', 'slow down: too many joins');
    const room = await this.visibleRoom(state, roomId);
    const userId = state.peer.user.id;
    await this.store.addMember(roomId, userId);
    if (state.closed) return;

    // Subscribe before reading history: whatever is published from here on is
    // either in what we read or waits in `pending` — nothing falls between.
    let cursor = state.rooms.get(roomId);
    if (rejoin && cursor) {
      cursor.replaying = true;
    } else {
      cursor = new RoomCursor();
      state.addRoom(roomId, cursor);
      await this.subscribe(state, roomId);
    }

    cursor.archived = room.archived;
    let history: MessageRecord[];
    let truncated = false;
    if (since !== undefined) {
      // A cursor past the room's end (a stale or made-up one) counts from the end.
      const from = Math.min(since, room.lastSeq);
      history = await this.store.messagesAfter(roomId, from, this.options.maxReplayMessages + 1);
      if (history.length > this.options.maxReplayMessages) {
        truncated = true;
        history = (await this.store.messagesBefore(roomId, undefined, JOIN_HISTORY)).reverse();
      }
      cursor.delivered = history.length > 0 ? history[history.length - 1]!.seq : from;
    } else {
      history = (await this.store.messagesBefore(roomId, undefined, JOIN_HISTORY)).reverse();
      cursor.delivered = history.length > 0 ? history[history.length - 1]!.seq : 0;
    }
    const [members, online] = await Promise.all([this.store.listMembers(roomId), this.onlineUsers(roomId)]);
    if (state.closed || state.rooms.get(roomId) !== cursor) return;

    const joined: ServerMessage = {
      type: 'joined',
      room: roomId,
      title: room.title,
      topic: room.topic,
      members: members.map((m) => ({ username: m.username, online: online.has(m.userId) })),
      history: history.map(toChatMessage),
      lastSeq: cursor.delivered,
    };
    if (truncated) joined.truncated = true;
    if (ref !== undefined) joined.ref = ref;
    state.reply(joined);
    await this.catchUp(state, roomId, cursor);
  }

  /** Delivers what queued up while `cursor` was replaying, filling gaps from the store. */
  private async catchUp(state: PeerState, roomId: string, cursor: RoomCursor): Promise<void> {
    for (;;) {
      const next = cursor.pending.shift();
      if (!next) break;
      if (next.seq <= cursor.delivered) {
        if (next.ack) state.peer.send(next.event);
        continue;
      }
      if (next.seq > cursor.delivered + 1) {
        const missing = await this.store.messagesAfter(roomId, cursor.delivered, next.seq - cursor.delivered - 1);
        if (state.closed || state.rooms.get(roomId) !== cursor) return;
        for (const m of missing) {
          if (m.seq <= cursor.delivered) continue;
          state.peer.send(this.messageEvent(roomId, m));
          cursor.delivered = m.seq;
        }
      }
      if (next.seq === cursor.delivered + 1) {
        state.peer.send(next.event);
        cursor.delivered = next.seq;
      }
    }
    cursor.replaying = false;
  }

  private async leave(state: PeerState, roomId: string, ref: Ref): Promise<void> {
    this.joined(state, roomId);
    await this.unsubscribe(state, roomId);
    await this.store.removeMember(roomId, state.peer.user.id);
    state.reply(ref === undefined ? { type: 'left', room: roomId } : { type: 'left', room: roomId, ref });
  }

  private send(state: PeerState, roomId: string, text: string, clientMsgId: string, ref: Ref): void {
    if (this.joined(state, roomId).archived) throw new ChatError('forbidden', 'this room is archived');
    this.checkText(text);
    this.takeSend(state);
    const peer = state.peer;
    this.writer.write({ roomId, authorId: peer.user.id, text, clientMsgId, ts: Date.now() }, (result) => {
      if (result instanceof Error) {
        state.error('internal', 'the message could not be stored', ref, roomId);
        return;
      }
      if (result.status === 'room_gone') {
        state.error('not_found', `no room ${roomId}`, ref, roomId);
        return;
      }
      if (result.status === 'duplicate') {
        if (result.message.roomId !== roomId) {
          // (author, clientMsgId) is unique across rooms: never ack a send with another room's message.
          state.error('conflict', `clientMsgId ${clientMsgId} was already used in room ${result.message.roomId}`, ref, roomId);
          return;
        }
        // Sent before (a retry after a reconnect). Published again rather than
        // answered directly: if the node that stored it died before publishing,
        // this is how the room hears of it. Cursors that have it drop it; the
        // sender gets its acknowledgement either way.
      }
      this.publishQuietly({
        kind: 'message',
        room: roomId,
        message: result.message,
        ...(ref === undefined ? {} : { replyTo: { connectionId: peer.connectionId, ref } }),
      });
    });
  }

  private async history(state: PeerState, roomId: string, before: number | undefined, limit: number, ref: Ref): Promise<void> {
    await this.visibleRoom(state, roomId);
    const messages = await this.store.messagesBefore(roomId, before, limit);
    const reply: ServerMessage = { type: 'history', room: roomId, messages: messages.map(toChatMessage) };
    if (ref !== undefined) reply.ref = ref;
    state.reply(reply);
  }

  private typing(state: PeerState, roomId: string): void {
    const cursor = this.joined(state, roomId);
    const now = Date.now();
    // Coalesced: a client may report every keystroke; others hear of it every couple of seconds.
    if (now - cursor.typingAt < this.typingIntervalMs) return;
    cursor.typingAt = now;
    const { id, username } = state.peer.user;
    this.publishQuietly({ kind: 'typing', room: roomId, userId: id, user: username });
  }

  private async ownMessage(state: PeerState, roomId: string, id: number): Promise<MessageRecord> {
    if (this.joined(state, roomId).archived) throw new ChatError('forbidden', 'this room is archived');
    const message = await this.store.getMessage(roomId, id);
    if (!message || message.deletedAt !== null) throw new ChatError('not_found', `no message ${id} in ${roomId}`);
    if (message.authorId !== state.peer.user.id) throw new ChatError('forbidden', 'only the author may change a message');
    return message;
  }

  private async edit(state: PeerState, roomId: string, id: number, text: string, ref: Ref): Promise<void> {
    this.checkText(text);
    await this.ownMessage(state, roomId, id);
    this.takeSend(state);
    const updated = await this.store.editMessage(roomId, id, text, Date.now());
    if (!updated) throw new ChatError('not_found', `no message ${id} in ${roomId}`);
    await this.publishUpdate(state, updated, ref);
  }

  private async remove(state: PeerState, roomId: string, id: number, ref: Ref): Promise<void> {
    await this.ownMessage(state, roomId, id);
    this.takeSend(state);
    const updated = await this.store.deleteMessage(roomId, id, Date.now());
    if (!updated) throw new ChatError('not_found', `no message ${id} in ${roomId}`);
    await this.publishUpdate(state, updated, ref);
  }

  private async publishUpdate(state: PeerState, message: MessageRecord, ref: Ref): Promise<void> {
    await this.broker.publish({
      kind: 'message_updated',
      room: message.roomId,
      message,
      ...(ref === undefined ? {} : { replyTo: { connectionId: state.peer.connectionId, ref } }),
    });
  }

  private async read(state: PeerState, roomId: string, seq: number, ref: Ref): Promise<void> {
    this.joined(state, roomId);
    const stored = await this.store.setReadCursor(roomId, state.peer.user.id, seq);
    state.reply(ref === undefined ? { type: 'read', room: roomId, seq: stored } : { type: 'read', room: roomId, seq: stored, ref });
  }

  // ---- subscriptions and presence --------------------------------------------

  private async subscribe(state: PeerState, roomId: string): Promise<void> {
    let peers = this.local.get(roomId);
    if (!peers) {
      peers = new Set();
      this.local.set(roomId, peers);
      await this.broker.subscribe(roomId);
    }
    peers.add(state);
    let users = this.online.get(roomId);
    if (!users) {
      users = new Map();
      this.online.set(roomId, users);
    }
    const { id, username } = state.peer.user;
    const count = (users.get(id) ?? 0) + 1;
    users.set(id, count);
    if (count === 1 && (await this.presenceChange(() => this.presence.arrive(roomId, id, username)))) {
      await this.broker.publish({ kind: 'presence', room: roomId, userId: id, user: username, state: 'online' });
    }
  }

  /** Asks the registry; presence is advisory, so a registry that fails announces nothing and blocks nothing. */
  private async presenceChange(ask: () => boolean | Promise<boolean>): Promise<boolean> {
    try {
      return await ask();
    } catch (err) {
      this.options.observer?.background?.('presence', err);
      return false;
    }
  }

  /** Publishes without a caller to tell; a failure is reported, never thrown. */
  private publishQuietly(event: RoomEvent): void {
    try {
      const pending = this.broker.publish(event);
      if (pending) pending.catch((err: unknown) => this.options.observer?.background?.('broker', err));
    } catch (err) {
      this.options.observer?.background?.('broker', err);
    }
  }

  private async unsubscribe(state: PeerState, roomId: string): Promise<void> {
    if (!state.removeRoom(roomId)) return;
    const peers = this.local.get(roomId);
    if (peers) {
      peers.delete(state);
      if (peers.size === 0) {
        this.local.delete(roomId);
        await this.broker.unsubscribe(roomId);
      }
    }
    const users = this.online.get(roomId);
    const { id, username } = state.peer.user;
    const count = (users?.get(id) ?? 1) - 1;
    if (users) {
      if (count <= 0) users.delete(id);
      else users.set(id, count);
      if (users.size === 0) this.online.delete(roomId);
    }
    if (count <= 0 && (await this.presenceChange(() => this.presence.depart(roomId, id)))) {
      await this.broker.publish({ kind: 'presence', room: roomId, userId: id, user: username, state: 'offline' });
    }
  }

  /** @internal */
  disconnect(state: PeerState): void {
    if (state.closed && state.rooms.size === 0) return;
    state.closed = true;
    state.inbox = undefined;
    for (const roomId of [...state.rooms.keys()]) {
      const leaving: Promise<void> = this.unsubscribe(state, roomId)
        .catch((err: unknown) => this.options.observer?.background?.('leave', err))
        .finally(() => this.leaving.delete(leaving));
      this.leaving.add(leaving);
    }
  }

  // ---- outbound fan-out ------------------------------------------------------

  private messageEvent(roomId: string, m: MessageRecord, ref?: Ref): OutgoingEvent {
    return new OutgoingEvent(messageEventJson(roomId, m, ref));
  }

  private onRoomEvent(event: RoomEvent): void {
    const peers = this.local.get(event.room);
    if (!peers) return;
    switch (event.kind) {
      case 'message': {
        // Encoded once for all; only the sender's copy differs (it carries `ref`). The shared
        // copy is made on first use: a sender alone in its room needs only its own.
        let shared: OutgoingEvent | undefined;
        const seq = event.message.seq;
        this.options.observer?.fanout(peers.size);
        for (const state of peers) {
          const cursor = state.rooms.get(event.room);
          if (!cursor) continue;
          const own = event.replyTo && event.replyTo.connectionId === state.peer.connectionId;
          const out = own
            ? this.messageEvent(event.room, event.message, event.replyTo!.ref)
            : (shared ??= this.messageEvent(event.room, event.message));
          if (cursor.replaying) {
            cursor.pending.push({ seq, event: out, ack: own === true });
          } else if (seq === cursor.delivered + 1) {
            cursor.delivered = seq;
            state.peer.send(out);
          } else if (seq <= cursor.delivered) {
            // Seen already (a re-sent message): only its sender is owed an answer.
            if (own) state.peer.send(out);
          } else {
            // A gap (another node's message not seen yet): fill it from the store, in order.
            cursor.replaying = true;
            cursor.pending.push({ seq, event: out, ack: own === true });
            void this.catchUp(state, event.room, cursor).catch(() => state.peer.close(1011, 'delivery failed'));
          }
        }
        return;
      }
      case 'message_updated': {
        const body = { type: 'message_updated' as const, room: event.room, ...toChatMessage(event.message) };
        const shared = OutgoingEvent.of(body);
        for (const state of peers) {
          const own = event.replyTo && event.replyTo.connectionId === state.peer.connectionId;
          state.peer.send(own ? OutgoingEvent.of({ ...body, ref: event.replyTo!.ref }) : shared);
        }
        return;
      }
      case 'typing': {
        const out = OutgoingEvent.of({ type: 'typing', room: event.room, user: event.user });
        for (const state of peers) if (state.peer.user.id !== event.userId) state.peer.send(out);
        return;
      }
      case 'presence': {
        const out = OutgoingEvent.of({ type: 'presence', room: event.room, user: event.user, state: event.state });
        for (const state of peers) if (state.peer.user.id !== event.userId) state.peer.send(out);
        return;
      }
      case 'room_updated': {
        const out = OutgoingEvent.of({
          type: 'room',
          room: event.room,
          event: 'updated',
          title: event.title,
          topic: event.topic,
          private: event.private,
          archived: event.archived,
        });
        for (const state of peers) {
          const cursor = state.rooms.get(event.room);
          if (cursor) cursor.archived = event.archived;
          state.peer.send(out);
        }
        return;
      }
      case 'room_deleted': {
        const out = OutgoingEvent.of({ type: 'room', room: event.room, event: 'deleted' });
        for (const state of [...peers]) {
          state.peer.send(out);
          void this.unsubscribe(state, event.room).catch(() => {});
        }
        return;
      }
      case 'member_removed': {
        const out = OutgoingEvent.of({ type: 'room', room: event.room, event: event.reason });
        for (const state of [...peers]) {
          if (state.peer.user.id !== event.userId) continue;
          state.peer.send(out);
          void this.unsubscribe(state, event.room).catch(() => {});
        }
        return;
      }
    }
  }
}

/** What `connect` hands the transport: a connection's way into the service (an object, not two closures per connection). */
class ServiceLink implements ChatConnection {
  constructor(
    private readonly service: ChatService,
    private readonly state: PeerState,
  ) {}
  receive(text: string): void {
    this.service.receive(this.state, text);
  }
  disconnect(): void {
    this.service.disconnect(this.state);
  }
}
