import type { ClientMessage, ErrorCode, ServerMessage } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import type { ChatStore } from '../storage/store.js';
import { Attachments, type AttachmentLimits } from './attachments.js';
import { NO_FILES, type FileProbe, type FileStore } from './file-store.js';
import { ConversationService } from './conversations.js';
import type { Broker, NodeEvent } from './events.js';
import { InvitationService } from './invitations.js';
import { Inbox } from './inbox.js';
import { LocalRooms } from './local-rooms.js';
import { MessageChanges } from './message-changes.js';
import { Mentions } from './mentions.js';
import { MessageWriter } from './message-writer.js';
import type { ChatPeer } from './peer.js';
import { PeerState, type Ref } from './peer-state.js';
import { Pins } from './pins.js';
import { InProcessPresence, type PresenceRegistry } from './presence.js';
import { Reactions } from './reactions.js';
import { JOIN_HISTORY, RoomCursor, RoomDelivery } from './room-delivery.js';
import { RoomFanout } from './room-fanout.js';
import { RoomService } from './rooms.js';
import { SendGate } from './send-gate.js';
import { Sender } from './sender.js';
import { MessageSearch } from './search.js';
import { Threads } from './threads.js';
import { UserNotices } from './user-notices.js';
import { toChatMessage } from './wire.js';

export interface ChatServiceOptions {
  /** Largest chat text in UTF-8 bytes (`too_large` beyond). */
  maxMessageBytes: number;
  /** How many missed messages a `join` with `since` replays before answering `truncated`. */
  maxReplayMessages: number;
  maxRoomsPerConnection: number;
  /** Sends (and edits, deletes) per second, per connection and per user. */
  messagesPerSecond: number;
  joinsPerMinute: number;
  /** Searches per second per user, after a burst of four seconds' worth. Default 5. */
  searchesPerSecond?: number;
  /** At most one typing notice per user and room in this time. Default 2000. */
  typingIntervalMs?: number;
  /** Told what happens, for metrics. */
  observer?: ChatObserver;
  /** Who is online across nodes; default: this node only. */
  presence?: PresenceRegistry;
  /** Client messages that may wait behind a slow one, per connection (default 256). */
  maxInbox?: number;
  /** Records moderators' actions over the socket (deleting others' messages, pins) in the audit log. */
  audit?: ModerationAudit;
  /** Where files live and what they are, and the limits on them (attachments.ts). Default: none (NO_FILES). */
  files?: { store: FileStore; probe: FileProbe; limits: AttachmentLimits };
}

/** With no file store, every upload is refused before it is read. */
const NO_FILE_LIMITS: AttachmentLimits = { maxFileBytes: 0, maxUserBytes: 0, maxPerMessage: 0, maxImagePixels: 0, unattachedTtlMs: 60 * 60_000 };

/** Who did what, from where: the audit log's entry for an action over the socket. */
export type ModerationAudit = (actor: string, action: string, ip: string | null, facts: Record<string, unknown>) => Promise<void>;

/** What the domain reports as it works (the server turns it into /metrics). */
export interface ChatObserver {
  committed(seconds: number, messages: number): void;
  fanout(recipients: number): void;
  error(code: ErrorCode): void;
  /** Something failed in the background (presence, broker) that no client request is waiting on. */
  background?(what: string, err: unknown): void;
}

/** What the transport holds for one connection. */
export interface ChatConnection {
  /** A text message from the client (JSON expected). */
  receive(text: string): void;
  /** The connection is gone. */
  disconnect(): void;
}

/**
 * The chat domain over live connections: it answers each client request
 * (join, leave, send, history, typing, edit, delete, read) and puts the
 * parts together — the inbox (order, limits), room delivery (cursors, gap
 * fill), local rooms (membership, presence), the fan-out of broker events —
 * and `rooms`, the same operations for REST. Plain TypeScript: it is handed
 * a store and a broker, and talks to clients through `ChatPeer`.
 *
 * Delivery: a message is committed (group commit), then published; every
 * node's subscribers receive it in `seq` order, each connection exactly once.
 */
export class ChatService {
  /** Room operations for the REST API, on the same rules. */
  readonly rooms: RoomService;
  /** Direct conversations, for REST. */
  readonly conversations: ConversationService;
  /** Invitations into rooms, for REST. */
  readonly invitations: InvitationService;
  /** Reactions, pins and threads, for REST (the socket's requests go to the same). */
  readonly reactions: Reactions;
  readonly pins: Pins;
  readonly threads: Threads;
  readonly search: MessageSearch;
  /** Uploads, files on messages, their clean-up. */
  readonly attachments: Attachments;
  private readonly notices: UserNotices;
  private readonly local: LocalRooms;
  private readonly delivery: RoomDelivery;
  private readonly inbox: Inbox;
  private readonly gate: SendGate;
  private readonly changes: MessageChanges;
  private readonly sender: Sender;
  private readonly writer: MessageWriter;
  private readonly typingIntervalMs: number;
  private readonly audit: ModerationAudit;
  private readonly onError: (code: ErrorCode) => void;

  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    private readonly options: ChatServiceOptions,
  ) {
    const observer = options.observer;
    const background = (what: string, err: unknown) => observer?.background?.(what, err);
    this.onError = (code) => observer?.error(code);
    this.writer = new MessageWriter(store, (seconds, size) => observer?.committed(seconds, size));
    this.gate = new SendGate(options.maxMessageBytes, options.messagesPerSecond);
    this.typingIntervalMs = options.typingIntervalMs ?? 2000;
    this.local = new LocalRooms(broker, options.presence ?? new InProcessPresence(), background);
    this.delivery = new RoomDelivery(store, options.maxReplayMessages, (state, err) => {
      // Its cursor can no longer promise order: end it, and the client resumes with `since`.
      background('delivery', err);
      state.peer.end('delivery_failed');
    });
    this.inbox = new Inbox((state, msg) => this.handle(state, msg), {
      ...(options.maxInbox === undefined ? {} : { maxWaiting: options.maxInbox }),
      unexpected: (err) => background('request', err),
    });
    const files = options.files ?? { ...NO_FILES, limits: NO_FILE_LIMITS };
    this.attachments = new Attachments(store, { files: files.store, probe: files.probe }, files.limits);
    this.rooms = new RoomService(store, broker, {
      onlineUsers: (room) => this.local.onlineUsers(room),
      discardFiles: (ids) => this.attachments.discard(ids),
    });
    this.notices = new UserNotices(broker);
    this.conversations = new ConversationService(store, this.notices.notify);
    this.invitations = new InvitationService(store, this.rooms, this.notices.notify);
    this.audit = options.audit ?? (async () => {});
    this.changes = new MessageChanges(store, broker, this.rooms, this.gate, this.audit);
    this.reactions = new Reactions(store, broker, this.rooms, this.gate);
    this.pins = new Pins(store, broker, this.rooms);
    this.threads = new Threads(store, this.rooms);
    this.search = new MessageSearch(store, this.rooms, options.searchesPerSecond ?? 5);
    const mentions = new Mentions(store, this.rooms);
    this.sender = new Sender({
      writer: this.writer,
      local: this.local,
      gate: this.gate,
      threads: this.threads,
      mentions,
      attachments: this.attachments,
      notify: this.notices.notify,
      background,
    });
    const fanout = new RoomFanout(this.local, this.delivery, observer && ((n) => observer.fanout(n)));
    broker.setHandler((event) => fanout.handle(event));
  }

  connect(peer: ChatPeer): ChatConnection {
    this.notices.add(peer);
    return new ServiceLink(this, new PeerState(peer, this.options, this.onError));
  }

  /** A node event for this node's connections of some users (the transport hands over what the broker delivers). */
  /** After the broker was cut off: every local connection gets, from the store, the messages it missed. */
  resync(): void {
    for (const [roomId, peers] of this.local.entries()) {
      for (const state of peers) {
        const cursor = state.rooms.get(roomId);
        if (cursor) this.delivery.resync(state, roomId, cursor);
      }
    }
  }

  deliverNotice(event: Extract<NodeEvent, { kind: 'user_notice' }>): void {
    this.notices.deliver(event);
  }

  /** Ids of the users joined to a room on any node. */
  onlineUsers(room: string): Promise<ReadonlySet<number>> {
    return this.local.onlineUsers(room);
  }

  /** Whether the database and the broker answer (for /healthz). */
  async ready(): Promise<boolean> {
    return (await this.store.ping()) && (this.broker.ping ? await this.broker.ping() : true);
  }

  /** Commits everything accepted so far and lets closed connections finish leaving (graceful shutdown). */
  async drain(): Promise<void> {
    await this.local.drain();
    await this.writer.drain();
  }

  /** @internal */
  receive(state: PeerState, text: string): void {
    this.inbox.receive(state, text);
  }

  /** @internal */
  disconnect(state: PeerState): void {
    // First: a connection the inbox already ended (closed, in no room) is still listed for notices.
    this.notices.remove(state.peer);
    if (state.closed && state.rooms.size === 0) return;
    state.closed = true;
    state.inbox = undefined;
    this.local.disconnect(state);
  }

  private handle(state: PeerState, msg: ClientMessage): Promise<void> | void {
    switch (msg.type) {
      case 'join':
        return this.join(state, msg.room, msg.since, msg.presence === 'batched', msg.ref);
      case 'leave':
        return this.leave(state, msg.room, msg.ref);
      case 'send':
        return this.sender.send(state, msg);
      case 'history':
        return this.history(state, msg.room, msg.before, msg.limit ?? JOIN_HISTORY, msg.ref);
      case 'typing':
        return this.typing(state, msg.room);
      case 'edit':
        return this.changes.edit(state, msg.room, msg.id, msg.text, msg.ref);
      case 'delete':
        return this.changes.remove(state, msg.room, msg.id, msg.ref);
      case 'read':
        return this.read(state, msg.room, msg.seq, msg.ref);
      case 'react':
      case 'unreact':
        // Not held: the next request does not wait for this one's commit, so a burst of
        // reactions shares commits as sends do (each is answered with its ref all the same).
        this.inbox.detach(state, msg, this.reactions.react(state, msg.room, msg.id, msg.emoji, msg.type === 'react', msg.ref));
        return;
      case 'pin':
        return this.pin(state, msg.room, msg.id, msg.pinned, msg.ref);
      case 'pins':
        return this.listPins(state, msg.room, msg.ref);
      case 'thread':
        return this.thread(state, msg.room, msg.id, msg.after ?? 0, msg.limit ?? JOIN_HISTORY, msg.ref);
    }
  }

  private async join(state: PeerState, roomId: string, since: number | undefined, batchedPresence: boolean, ref: Ref): Promise<void> {
    const rejoin = state.rooms.has(roomId);
    if (!rejoin && state.rooms.size >= this.options.maxRoomsPerConnection) {
      throw new DomainError('forbidden', `a connection joins at most ${this.options.maxRoomsPerConnection} rooms`);
    }
    const now = Date.now();
    if (!state.joins(now).take(now)) throw new DomainError('rate_limited', 'slow down: too many joins');
    const userId = state.peer.user.id;
    const room = await this.rooms.visibleRoom(userId, roomId, 'join');
    await this.store.addMember(roomId, userId);
    if (state.closed) return;

    // Enter the room before reading history: whatever is published from here on
    // is either in what we read or waits in `pending` — nothing falls between.
    let cursor = state.rooms.get(roomId);
    if (rejoin && cursor) {
      cursor.replaying = true;
      cursor.batchedPresence = batchedPresence;
    } else {
      cursor = new RoomCursor();
      cursor.batchedPresence = batchedPresence;
      await this.local.enter(state, roomId, cursor);
    }
    cursor.archived = room.archived;
    cursor.private = room.private;
    const replay = await this.delivery.replay(roomId, room, since);
    cursor.delivered = replay.delivered;
    const [members, online] = await Promise.all([this.store.listMembers(roomId), this.local.onlineUsers(roomId)]);
    // Closed, or left (and maybe rejoined with a new cursor) meanwhile: that join answers for itself.
    if (state.closed || state.rooms.get(roomId) !== cursor) return;

    const joined: ServerMessage = {
      type: 'joined',
      room: roomId,
      title: room.title,
      topic: room.topic,
      members: members.map((m) => ({ username: m.username, online: online.has(m.userId), role: m.role })),
      history: replay.history.map(toChatMessage),
      lastSeq: cursor.delivered,
    };
    if (replay.truncated) joined.truncated = true;
    if (ref !== undefined) joined.ref = ref;
    state.reply(joined);
    await this.delivery.catchUp(state, roomId, cursor);
  }

  private async leave(state: PeerState, roomId: string, ref: Ref): Promise<void> {
    state.joined(roomId);
    await this.local.exit(state, roomId);
    await this.store.removeMember(roomId, state.peer.user.id);
    state.reply(ref === undefined ? { type: 'left', room: roomId } : { type: 'left', room: roomId, ref });
  }

  private async history(state: PeerState, roomId: string, before: number | undefined, limit: number, ref: Ref): Promise<void> {
    const messages = await this.rooms.history({ userId: state.peer.user.id }, roomId, before, limit);
    const reply: ServerMessage = { type: 'history', room: roomId, messages };
    if (ref !== undefined) reply.ref = ref;
    state.reply(reply);
  }

  private async pin(state: PeerState, roomId: string, id: number, pinned: boolean, ref: Ref): Promise<void> {
    state.joined(roomId);
    const replyTo = ref === undefined ? undefined : { connectionId: state.peer.connectionId, ref };
    const { message, changed } = await this.pins.set({ userId: state.peer.user.id }, roomId, id, pinned, replyTo);
    if (changed) {
      const facts = { room: roomId, target: message.author, message: id };
      await this.audit(state.peer.user.username, pinned ? 'pin' : 'unpin', state.peer.ip ?? null, facts);
    }
    // Changed: the room hears of it, the asker's copy with the ref; unchanged: only the asker.
    if (!changed) state.reply({ type: 'message_updated', room: roomId, ...toChatMessage(message), ...(ref === undefined ? {} : { ref }) });
  }

  private async listPins(state: PeerState, roomId: string, ref: Ref): Promise<void> {
    const messages = await this.pins.list({ userId: state.peer.user.id }, roomId);
    state.reply({ type: 'pins', room: roomId, messages, ...(ref === undefined ? {} : { ref }) });
  }

  private async thread(state: PeerState, roomId: string, id: number, after: number, limit: number, ref: Ref): Promise<void> {
    const messages = await this.threads.replies({ userId: state.peer.user.id }, roomId, id, after, limit);
    state.reply({ type: 'thread', room: roomId, id, messages, ...(ref === undefined ? {} : { ref }) });
  }

  private typing(state: PeerState, roomId: string): void {
    const cursor = state.joined(roomId);
    const now = Date.now();
    // Coalesced: a client may report every keystroke; others hear of it every couple of seconds.
    if (now - cursor.typingAt < this.typingIntervalMs) return;
    cursor.typingAt = now;
    const { id, username } = state.peer.user;
    this.local.publishQuietly({ kind: 'typing', room: roomId, userId: id, user: username });
  }

  private async read(state: PeerState, roomId: string, seq: number, ref: Ref): Promise<void> {
    state.joined(roomId);
    const stored = await this.store.setReadCursor(roomId, state.peer.user.id, seq);
    state.reply(ref === undefined ? { type: 'read', room: roomId, seq: stored } : { type: 'read', room: roomId, seq: stored, ref });
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
