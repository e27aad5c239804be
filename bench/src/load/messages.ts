/** What the orchestrator and the load-generator workers say to each other over IPC. */

export interface Target {
  kind: 'chat' | 'socket.io';
  url: string;
  /** Session tokens for our server, one per connection of the `open` command, in its order. */
  tokens?: string[];
}

/** Everyone in `room` receives every message; `sender` keeps a window in flight or a fixed rate. */
export interface FanoutPhase {
  kind: 'fanout';
  room: string;
  /** This worker's connections in the room. */
  members: number[];
  /** The sending connection, when it is this worker's. */
  sender?: number;
  /** Workers with members in the room: a message is complete when each has reported it. */
  workers: number;
  mode: 'window' | 'rate';
  window: number;
  rate: number;
  textBytes: number;
  tag: string;
  /**
   * What fans out: chat messages (default), or reactions — the sender first
   * sends `window` messages, then keeps one reaction in flight on each
   * (react, unreact, react, …; window mode only).
   */
  event?: 'message' | 'reaction';
}

/** Many rooms, each chatting at `perRoomRate` messages/s, sent by its members in turn. */
export interface RoomsPhase {
  kind: 'rooms';
  rooms: Array<{ room: string; conns: number[] }>;
  perRoomRate: number;
  textBytes: number;
  tag: string;
}

/** Each connection alone in its room, keeping `window` messages in flight (its own copies return). */
export interface EchoPhase {
  kind: 'echo';
  conns: Array<[conn: number, room: string]>;
  window: number;
  textBytes: number;
  tag: string;
}

export type Phase = FanoutPhase | RoomsPhase | EchoPhase;

export type Command =
  | { cmd: 'open'; target: Target; conns: number[]; ratePerSec?: number; concurrency: number; timeoutMs: number }
  | { cmd: 'join'; assign: Array<[conn: number, room: string]>; concurrency: number }
  | { cmd: 'start'; phase: Phase }
  | { cmd: 'measure'; on: boolean }
  | { cmd: 'stop'; timeoutMs: number }
  | { cmd: 'close' };

export interface OpenResult {
  opened: number;
  failed: number;
  firstError?: string;
  /** process.hrtime (CLOCK_MONOTONIC, shared by all processes) of the first attempt and the last success, in ns. */
  firstStartNs: number;
  lastDoneNs: number;
  hist: number[];
}

export interface JoinResult {
  joined: number;
  failed: number;
  firstError?: string;
}

export interface PhaseStats {
  /** Messages received while measuring (deliveries; for echo and persistence, acks). */
  received: number;
  /** Messages sent while measuring. */
  sent: number;
  /** Time measured, in seconds. */
  seconds: number;
  hist: number[];
  errors: number;
  firstError?: string;
  /** Connections of the phase the server closed. */
  lost: number;
}

export interface StopResult {
  /** Messages still unanswered when the stop timed out. */
  outstanding: number;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Fan-out: a worker has all its members' copies of message `i` of the phase `tag`. */
export interface DoneNotice {
  ev: 'done';
  tag: string;
  i: number;
}
