import { CHAT_SUBPROTOCOL, ServerMessage, type ClientMessage } from '@chat/schema';

export type ConnectionStatus = 'connecting' | 'online' | 'offline';

export interface ChatSocketHandlers {
  /** A parsed server message. */
  onEvent(event: ServerMessage): void;
  onStatus(status: ConnectionStatus, retryInMs?: number): void;
  /** Called on every (re)connection, before queued sends go out: rejoin rooms here. */
  onOpen(send: (message: ClientMessage) => void): void;
}

/** A send the server has not acknowledged yet: re-sent, with the same clientMsgId, after a reconnect. */
export interface OutboxEntry {
  room: string;
  text: string;
  clientMsgId: string;
  /** The message it replies to. */
  replyTo?: number | undefined;
  /** Uploaded files' ids: a re-send names the same ones. */
  attachments?: string[] | undefined;
}

/** `ref` is the clientMsgId, so an error about a send names the message it refuses. */
const sendMessage = (entry: OutboxEntry): ClientMessage => ({
  type: 'send',
  room: entry.room,
  text: entry.text,
  clientMsgId: entry.clientMsgId,
  ...(entry.replyTo === undefined ? {} : { replyTo: entry.replyTo }),
  ...(entry.attachments === undefined || entry.attachments.length === 0 ? {} : { attachments: entry.attachments }),
  ref: entry.clientMsgId,
});

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

/**
 * Owns the WebSocket: connects with subprotocol `chat.v1`, reconnects with
 * exponential backoff and full jitter, and keeps an outbox of unacknowledged
 * sends. The server de-duplicates by clientMsgId, so re-sending after a
 * reconnect never doubles a message.
 */
export class ChatSocket {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  readonly outbox = new Map<string, OutboxEntry>();

  constructor(
    private readonly url: string,
    private readonly handlers: ChatSocketHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'bye');
    this.socket = undefined;
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends now if connected; otherwise dropped (the caller re-sends state on reconnect). */
  send(message: ClientMessage): boolean {
    if (!this.isOpen) return false;
    this.socket!.send(JSON.stringify(message));
    return true;
  }

  /** Queues a chat message until the server acknowledges it (see `acknowledge`). */
  sendChat(entry: OutboxEntry): void {
    this.outbox.set(entry.clientMsgId, entry);
    this.send(sendMessage(entry));
  }

  acknowledge(clientMsgId: string): void {
    this.outbox.delete(clientMsgId);
  }

  /** Sends an outbox entry again after `delayMs` (it was refused for now, e.g. rate-limited). */
  retry(clientMsgId: string, delayMs: number): void {
    setTimeout(() => {
      const entry = this.outbox.get(clientMsgId);
      if (entry) this.send(sendMessage(entry));
    }, delayMs);
  }

  /** For tests and the "reconnect now" button: drop the connection as a network failure would. */
  drop(): void {
    this.socket?.close(4000, 'dropped by the client');
  }

  private open(): void {
    this.handlers.onStatus('connecting');
    const socket = new WebSocket(this.url, CHAT_SUBPROTOCOL);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.handlers.onStatus('online');
      const send = (m: ClientMessage) => socket.send(JSON.stringify(m));
      this.handlers.onOpen(send);
      for (const entry of this.outbox.values()) send(sendMessage(entry));
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let raw: unknown;
      try {
        raw = JSON.parse(event.data);
      } catch {
        return;
      }
      // The shared schema: what does not match the contract is ignored, not guessed at.
      const parsed = ServerMessage.safeParse(raw);
      if (parsed.success) this.handlers.onEvent(parsed.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      // Full jitter: a restarted server is not hit by every client at the same instant.
      const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
      const delay = Math.round(Math.random() * ceiling);
      this.attempt = Math.min(this.attempt + 1, 10);
      this.handlers.onStatus('offline', delay);
      this.timer = setTimeout(() => this.open(), delay);
    };
  }
}
