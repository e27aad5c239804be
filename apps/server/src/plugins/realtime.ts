import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  Opcode,
  ReadyState,
  acceptUpgrade,
  encodeFrameBuffer,
  limitHandshakeTime,
  rejectUpgrade,
  type WebSocketConnection,
} from '@chat/protocol';
import { CHAT_SUBPROTOCOL } from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import proxyAddr from '@fastify/proxy-addr';
import type { AuthUser } from '../auth/auth-service.js';
import { hashToken } from '../auth/tokens.js';
import type { ChatConnection } from '../chat/chat-service.js';
import { OutgoingEvent, type ChatPeer, type EndReason } from '../chat/peer.js';
import { tokenFrom } from './auth.js';
import { originAllowed } from '../origins.js';

/**
 * The largest frame accepted. Well above MAX_MESSAGE_BYTES on purpose: an
 * over-long chat text is a bad message (answered with `too_large`, the
 * connection stays), not a protocol violation; only frames past this close
 * with 1009. JSON escaping can make a text up to 6× longer (\uXXXX).
 */
const frameLimit = (maxMessageBytes: number) => Math.max(1024 * 1024, maxMessageBytes * 6 + 4096);

/**
 * Peers written to in this turn, uncorked together by one microtask: a
 * broadcast to a thousand peers schedules one callback, not a thousand, and
 * no peer carries a closure of its own for it.
 */
const corked: WebSocketPeer[] = [];
function uncorkAll(): void {
  for (const peer of corked.splice(0)) {
    try {
      peer.uncork();
    } catch {
      // One broken socket must not leave the others corked.
    }
  }
}

/** Close code (application range) for connections whose session was signed out. */
const SIGNED_OUT = 4001;
/** Close code: an admin deactivated the account. */
const DEACTIVATED = 4003;
/** A connection counts as the user being seen at most this often per user and node (a write each time). */
const SEEN_EVERY_MS = 60_000;

/** The close code and reason for each way the chat domain ends a connection (documented in docs/protocol.md). */
const CLOSE_FOR: Record<EndReason, [code: number, reason: string]> = {
  abusive: [CloseCode.PolicyViolation, 'rate limit exceeded'],
  delivery_failed: [CloseCode.InternalError, 'delivery failed'],
};

/** Errors on an accepted connection are reported by its close event. */
const ignore = () => {};
/** A socket error before or during the handshake ends the socket (one function for all sockets, not a closure each). */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** What every peer of this server shares (one object, not fields on each). */
interface PeerSettings {
  /** Bytes queued for a client past which it is cut off as too slow. */
  maxBuffered: number;
  /** Whether a broadcast's frame may be shared (not with permessage-deflate, whose frames are per connection). */
  shareFrames: boolean;
  /** Counts a message sent (metrics). */
  sent: () => void;
}

/** A chat client on a WebSocket: what the domain sends reaches the socket here. */
class WebSocketPeer implements ChatPeer {
  /** The chat domain's side of this connection (set once connected). */
  chat: ChatConnection | undefined;

  readonly connectionId: string;
  readonly user: AuthUser;
  /** The session's token hash: signing out finds the connection by it. */
  readonly session: string;
  readonly opened = Date.now();
  readonly ip: string | undefined;
  private readonly connection: WebSocketConnection;
  private readonly settings: PeerSettings;

  constructor(init: {
    connectionId: string;
    user: AuthUser;
    session: string;
    ip: string | undefined;
    connection: WebSocketConnection;
    settings: PeerSettings;
  }) {
    this.connectionId = init.connectionId;
    this.ip = init.ip;
    this.user = init.user;
    this.session = init.session;
    this.connection = init.connection;
    this.settings = init.settings;
  }

  /** Whether writes are held until the end of this turn (see `send`). */
  private corked = false;

  send(event: OutgoingEvent): void {
    const c = this.connection;
    if (c.readyState !== ReadyState.Open) return;
    // Everything sent to this peer in one turn — a group commit's broadcasts,
    // replies to a pipelined burst — leaves in one write, not one per message.
    if (!this.corked) {
      this.corked = true;
      c.cork();
      if (corked.push(this) === 1) queueMicrotask(uncorkAll);
    }
    // A reader that cannot keep up is cut off (it can resume with `since`):
    // its backlog must not grow the server's memory.
    if (c.bufferedAmount > this.settings.maxBuffered) {
      c.close(CloseCode.TryAgainLater, 'too slow: the send buffer is full');
      return;
    }
    this.settings.sent();
    if (this.settings.shareFrames) {
      // One frame for every recipient of a broadcast.
      const frame = (event.wire ??= encodeFrameBuffer(Opcode.Text, Buffer.from(event.json))) as Buffer;
      c.sendFrame(frame);
    } else {
      c.send(event.json);
    }
  }

  uncork(): void {
    this.corked = false;
    this.connection.uncork();
  }

  end(reason: EndReason): void {
    const [code, text] = CLOSE_FOR[reason];
    this.connection.close(code, text);
  }
}

/**
 * GET /ws: the WebSocket endpoint. Fastify owns HTTP; upgrade requests are
 * checked here (path, Origin, session, connection caps) and handed to
 * @chat/protocol, then to the chat domain.
 */
export const realtimePlugin = fp(
  async (app: FastifyInstance) => {
    const c = app.config;
    /** Every open connection and its peer: the one object a connection keeps here (see onMessage). */
    const peers = new Map<WebSocketConnection, WebSocketPeer>();
    const perUser = new Map<number, number>();
    // The client's address as Fastify's `request.ip` reads it for HTTP: behind a proxy in TRUST_PROXY,
    // the one it names in X-Forwarded-For; otherwise the socket's peer.
    const trust = c.trustProxy === true ? () => true : c.trustProxy === false ? () => false : proxyAddr.compile(c.trustProxy);
    const clientIp = (request: IncomingMessage): string | undefined =>
      request.socket.remoteAddress === undefined ? undefined : proxyAddr(request, trust);
    /** When this node last noted each user as seen. */
    const seenAt = new Map<number, number>();
    /** Session (token hash) → its open connections, so signing out ends them. */
    const bySession = new Map<string, Set<WebSocketConnection>>();
    let nextId = 0;
    // Connection ids name the node (logs) and this process's start (unique across restarts).
    const nodeId = `${c.nodeId}.${randomUUID().slice(0, 8)}`;
    const log = app.log.child({ component: 'ws' });

    // Non-browser clients send no Origin; cross-site WebSocket hijacking needs a browser, which always does.
    const upgradeOriginAllowed = (origin: string | undefined, host: string | undefined): boolean =>
      origin === undefined || originAllowed(origin, host, c.allowedOrigins);

    const metrics = app.metrics;
    const peerSettings: PeerSettings = {
      maxBuffered: c.wsMaxBufferedBytes,
      shareFrames: !c.wsCompression,
      sent: () => metrics.messagesOut.inc(),
    };
    metrics.gauge('chat_ws_connections', 'Open WebSocket connections', () => peers.size);
    metrics.gauge('chat_ws_send_buffer_bytes', 'Bytes queued for clients, all connections', () => {
      let total = 0;
      for (const conn of peers.keys()) total += conn.bufferedAmount;
      return total;
    });

    const refuse = (socket: Duplex, status: number, reason: string, request: IncomingMessage) => {
      metrics.handshakesRejected.inc({ status: String(status) });
      log.info({ status, reason, ip: clientIp(request) }, 'ws handshake refused');
      rejectUpgrade(socket, status, reason);
    };

    const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', destroyOnError);
      const path = (request.url ?? '/').split('?')[0];
      if (path !== '/ws') return refuse(socket, 404, 'no WebSocket endpoint here; use /ws', request);
      if (!upgradeOriginAllowed(request.headers.origin, request.headers.host)) {
        return refuse(socket, 403, 'this Origin is not allowed', request);
      }
      if (peers.size >= c.maxConnections) return refuse(socket, 503, 'the server is at its connection limit', request);
      // @fastify/cookie's parser (the one HTTP routes use): malformed cookies are ignored, like missing ones.
      const token = tokenFrom(request.headers, request.headers.cookie ? app.parseCookie(request.headers.cookie) : {});
      let user: AuthUser | undefined;
      try {
        user = await app.auth.authenticate(token);
      } catch (err) {
        log.error({ err }, 'session lookup failed');
        return refuse(socket, 500, 'internal error', request);
      }
      if (!user) return refuse(socket, 401, 'sign in first (session cookie or Bearer token)', request);
      if ((perUser.get(user.id) ?? 0) >= c.maxConnectionsPerUser) {
        return refuse(socket, 429, 'too many connections for this user', request);
      }
      if (socket.destroyed) return;
      const now = Date.now();
      if (now - (seenAt.get(user.id) ?? 0) >= SEEN_EVERY_MS) {
        if (seenAt.size > 100_000) seenAt.clear();
        seenAt.set(user.id, now);
        Promise.resolve(app.store.touchUser(user.id, now)).catch((err: unknown) => log.warn({ err }, 'could not note the user as seen'));
      }

      const connection = acceptUpgrade(request, socket, head, {
        protocols: [CHAT_SUBPROTOCOL],
        perMessageDeflate: c.wsCompression,
        maxPayload: frameLimit(c.maxMessageBytes),
        idleTimeoutMs: c.wsIdleTimeoutMs,
        // The same bound for the pongs the package answers pings with as for chat events (`send` above).
        maxBufferedBytes: c.wsMaxBufferedBytes,
        // Origin was checked above, with the server's own rules.
      });
      if (!connection) return;

      const ip = clientIp(request);
      perUser.set(user.id, (perUser.get(user.id) ?? 0) + 1);
      const session = hashToken(token!);
      let sessionConnections = bySession.get(session);
      if (!sessionConnections) bySession.set(session, (sessionConnections = new Set()));
      sessionConnections.add(connection);
      const peer = new WebSocketPeer({ connectionId: `${nodeId}-${++nextId}`, user, session, ip, connection, settings: peerSettings });
      peers.set(connection, peer);
      peer.chat = app.chat.connect(peer);
      log.info({ conn: peer.connectionId, user: user.username, ip }, 'ws open');
      // Listeners shared by every connection (the emitter is `this`), not
      // closures of each: an idle connection costs only what it must keep.
      connection.on('message', onMessage);
      connection.on('error', ignore);
      connection.on('close', onClose);
    };

    function onMessage(this: WebSocketConnection, data: Buffer, isBinary: boolean): void {
      const peer = peers.get(this);
      if (!peer) return;
      metrics.messagesIn.inc();
      if (isBinary) {
        peer.send(OutgoingEvent.of({ type: 'error', code: 'invalid_message', message: 'messages are JSON text frames' }));
        return;
      }
      peer.chat!.receive(data.toString('utf8'));
    }

    function onClose(this: WebSocketConnection, code: number, reason: string): void {
      const peer = peers.get(this);
      if (!peer) return;
      peers.delete(this);
      const sessionConnections = bySession.get(peer.session);
      sessionConnections?.delete(this);
      if (sessionConnections?.size === 0) bySession.delete(peer.session);
      const { user } = peer;
      const left = (perUser.get(user.id) ?? 1) - 1;
      if (left <= 0) perUser.delete(user.id);
      else perUser.set(user.id, left);
      peer.chat!.disconnect();
      metrics.closes.inc({ code: String(code) });
      log.info({ conn: peer.connectionId, user: user.username, code, reason, ms: Date.now() - peer.opened }, 'ws close');
    }

    // Signing out ends the session's WebSockets with 4001 on every node (the
    // broker tells them all, this one at once), so no connection outlives the
    // session it was opened with, wherever it landed.
    app.broker.setNodeHandler((event) => {
      if (event.kind === 'user_notice') return app.chat.deliverNotice(event);
      if (event.kind === 'resync') return app.chat.resync();
      if (event.kind === 'user_deactivated') {
        for (const [conn, peer] of peers) if (peer.user.id === event.userId) conn.close(DEACTIVATED, 'account deactivated');
        return;
      }
      const open = bySession.get(event.session);
      if (!open) return;
      for (const conn of open) conn.close(SIGNED_OUT, 'signed out');
    });

    app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      onUpgrade(request, socket, head).catch((err) => {
        log.error({ err }, 'upgrade failed');
        socket.destroy();
      });
    });
    limitHandshakeTime(app.server, c.wsHandshakeTimeoutMs);

    // Graceful shutdown: tell every client we are going away (1001), give them
    // a moment to close, then drop whoever is left.
    app.addHook('preClose', async () => {
      if (peers.size === 0) return;
      log.info({ connections: peers.size }, 'closing WebSocket connections');
      const closed = [...peers.keys()].map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (conn.readyState === ReadyState.Closed) return resolve();
            conn.once('close', () => resolve());
            conn.close(CloseCode.GoingAway, 'server shutting down');
          }),
      );
      const timer = new Promise<void>((resolve) => setTimeout(resolve, 3000).unref());
      await Promise.race([Promise.all(closed), timer]);
      for (const conn of peers.keys()) conn.terminate();
    });
  },
  { name: 'realtime', dependencies: ['auth', 'chat', 'metrics'] },
);

