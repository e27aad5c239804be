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

/** A connected client, as the chat domain sees it (the transport implements this). */
export interface ChatPeer {
  /** Unique across nodes and restarts for the life of the connection. */
  readonly connectionId: string;
  readonly user: { readonly id: number; readonly username: string };
  send(event: OutgoingEvent): void;
  /** Ends the connection with a WebSocket close code. */
  close(code: number, reason: string): void;
}
