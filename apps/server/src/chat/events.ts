import type { ServerMessage } from '@chat/schema';
import type { MessageRecord, RoomRole } from '../storage/store.js';

/**
 * What nodes tell each other about a room. The in-process broker hands these
 * straight to the local hub; a networked broker carries them between nodes.
 */
/** The connection that asked for an event gets its copy with the request's `ref`. */
export interface ReplyTo {
  connectionId: string;
  ref: string | number;
}

export type RoomEvent =
  | { kind: 'message'; room: string; message: MessageRecord; replyTo?: ReplyTo }
  | { kind: 'message_updated'; room: string; message: MessageRecord; replyTo?: ReplyTo }
  | { kind: 'typing'; room: string; userId: number; user: string }
  | { kind: 'presence'; room: string; userId: number; user: string; state: 'online' | 'offline' }
  | {
      kind: 'room_updated';
      room: string;
      title: string;
      topic: string;
      private: boolean;
      archived: boolean;
    }
  | { kind: 'room_deleted'; room: string }
  | { kind: 'member_removed'; room: string; userId: number; reason: 'kicked' | 'banned' }
  | { kind: 'role_changed'; room: string; userId: number; user: string; role: RoomRole }
  | {
      kind: 'reaction';
      room: string;
      messageId: number;
      emoji: string;
      user: string;
      added: boolean;
      /** The emoji's count on the message after this change. */
      count: number;
      replyTo?: ReplyTo;
    };

export type RoomEventHandler = (event: RoomEvent) => void;

/**
 * What nodes tell each other that is not about a room: every node hears it,
 * whatever rooms it serves. `session` is a session token's hash (never the
 * token), as the database keeps it.
 */
export type NodeEvent =
  | { kind: 'session_ended'; session: string }
  /** An admin deactivated the account: its connections close (4003) wherever they are. */
  | { kind: 'user_deactivated'; userId: number }
  /** A message for these users' connections, whatever rooms they are in (an invitation, a new conversation). */
  | { kind: 'user_notice'; users: number[]; message: ServerMessage }
  /**
   * This node's broker was cut off from the bus and is back (its own, never
   * published): what other nodes published meanwhile is lost to it, so every
   * local connection reads what it missed from the store.
   */
  | { kind: 'resync' };

export type NodeEventHandler = (event: NodeEvent) => void;

/**
 * Fan-out between server nodes. Implementations: `InProcessBroker` (one node,
 * the default); a Redis one for several nodes.
 */
export interface Broker {
  /** Where events for subscribed rooms are delivered. */
  setHandler(handler: RoomEventHandler): void;
  /** Starts receiving a room's events on this node (the first local member joined). */
  subscribe(room: string): void | Promise<void>;
  /** Stops receiving them (the last local member left). */
  unsubscribe(room: string): void | Promise<void>;
  publish(event: RoomEvent): void | Promise<void>;
  /** Where node-wide events are delivered, this node's own included. */
  setNodeHandler(handler: NodeEventHandler): void;
  /** Tells every node (this one at once, the others over the bus). */
  publishNode(event: NodeEvent): void | Promise<void>;
  /** Whether the bus answers (for /healthz); absent: always. */
  ping?(): boolean | Promise<boolean>;
  close(): void | Promise<void>;
}

/** One node: an event is delivered to the local hub synchronously, in publish order. */
export class InProcessBroker implements Broker {
  private handler: RoomEventHandler = () => {};
  private nodeHandler: NodeEventHandler = () => {};
  setHandler(handler: RoomEventHandler): void {
    this.handler = handler;
  }
  setNodeHandler(handler: NodeEventHandler): void {
    this.nodeHandler = handler;
  }
  publishNode(event: NodeEvent): void {
    this.nodeHandler(event);
  }
  subscribe(): void {}
  unsubscribe(): void {}
  publish(event: RoomEvent): void {
    this.handler(event);
  }
  close(): void {}
}
