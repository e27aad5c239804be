import { connect, type WebSocketConnection } from '@chat/protocol';
import { io, type Socket } from 'socket.io-client';

/** A chat event as received (already JSON-parsed). */
export interface ChatEvent {
  type: string;
  room?: string;
  text?: string;
  code?: string;
  message?: string;
  ref?: string | number;
  /** A message's id (`message`), or the message reacted to (`reaction`). */
  id?: number;
}

/**
 * One load-generator connection with a uniform face. For our server and the
 * ws twin it is our own client (`connect()` from @chat/protocol) sending JSON
 * text frames; for the socket.io twin it is socket.io-client, where socket.io
 * does the JSON and its packet framing on both ends.
 */
export interface ChatClient {
  send(message: object): void;
  /** Set by the scenario in charge; events before that are dropped. */
  onEvent: (event: ChatEvent) => void;
  /** Whether the server closed it (or it failed) since it opened. */
  readonly lost: boolean;
  close(): void;
}

export interface OpenOptions {
  kind: 'chat' | 'socket.io';
  url: string;
  /** A session token for `Authorization: Bearer` (our server). */
  token?: string | undefined;
  timeoutMs: number;
}

const ignore = () => {};

export async function openClient(options: OpenOptions): Promise<ChatClient> {
  return options.kind === 'chat' ? openChat(options) : openSocketIo(options);
}

async function openChat(options: OpenOptions): Promise<ChatClient> {
  const conn: WebSocketConnection = await connect(options.url, {
    protocols: ['chat.v1'],
    handshakeTimeoutMs: options.timeoutMs,
    ...(options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : {}),
  });
  let closing = false;
  const client = {
    onEvent: ignore as (event: ChatEvent) => void,
    lost: false,
    send: (message: object) => {
      conn.send(JSON.stringify(message));
    },
    close: () => {
      closing = true;
      conn.terminate();
    },
  };
  conn.on('error', ignore);
  conn.on('close', () => {
    if (!closing) client.lost = true;
  });
  conn.on('message', (data) => client.onEvent(JSON.parse(data.toString('utf8')) as ChatEvent));
  return client;
}

function openSocketIo(options: OpenOptions): Promise<ChatClient> {
  // forceNew: one engine.io connection per client (the default would multiplex them all onto one).
  const socket: Socket = io(options.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: options.timeoutMs,
  });
  return new Promise((resolve, reject) => {
    let closing = false;
    const client = {
      onEvent: ignore as (event: ChatEvent) => void,
      lost: false,
      send: (message: object) => {
        socket.emit('chat', message);
      },
      close: () => {
        closing = true;
        socket.disconnect();
      },
    };
    socket.once('connect', () => {
      socket.off('connect_error');
      socket.on('disconnect', () => {
        if (!closing) client.lost = true;
      });
      resolve(client);
    });
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
    socket.on('chat', (event: ChatEvent) => client.onEvent(event));
  });
}
