import type { ServerMessage } from '@chat/schema';

/**
 * An event encoded once for every recipient. The transport may cache its wire
 * form (e.g. a WebSocket frame) in `wire`, so a broadcast to a thousand peers
 * serialises and frames the message once.
 */
export class OutgoingEvent {
  wire: unknown = undefined;
  constructor(readonly json: string) {}
  static of(event: ServerMessage): OutgoingEvent {
    return new OutgoingEvent(JSON.stringify(event));
  }
}

/**
 * Why the domain ends a connection. The domain names the reason; the
 * transport decides what that is on its wire (a WebSocket close code).
 */
export type EndReason =
  /** It kept sending what was refused (rate limits, a full inbox): sustained abuse. */
  | 'abusive'
  /** A room's messages could not be delivered in order (a gap fill failed); the client may resume with `since`. */
  | 'delivery_failed';

/** A connected client, as the chat domain sees it (the transport implements this). */
export interface ChatPeer {
  /** Unique across nodes and restarts for the life of the connection. */
  readonly connectionId: string;
  readonly user: { readonly id: number; readonly username: string };
  /** The client's address (for the audit log), when the transport knows it. */
  readonly ip?: string | undefined;
  send(event: OutgoingEvent): void;
  /** Ends the connection. */
  end(reason: EndReason): void;
}
