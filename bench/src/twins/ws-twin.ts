/**
 * The `ws` twin: the minimal chat (./minimal-chat.ts) on ws 8, which picks up
 * bufferutil and utf-8-validate by itself. GET /ws, subprotocol chat.v1,
 * JSON text frames, no authentication, no persistence.
 *
 *   node dist/twins/ws-twin.js     (prints nothing; reports its port over IPC)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decide, Sequencer, type ErrorEvent } from './minimal-chat.js';

/** As our server's WS_MAX_BUFFERED_BYTES default: a reader this far behind is cut off. */
const MAX_BUFFERED = 1024 * 1024;

const rooms = new Map<string, Set<WebSocket>>();
const sequencer = new Sequencer();
let connections = 0;

const server = http.createServer((_req, res) => {
  res.writeHead(426, { 'content-type': 'text/plain' });
  res.end('WebSocket only: GET /ws\n');
});
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, maxPayload: 1024 * 1024 });

wss.on('connection', (ws) => {
  const author = `guest-${++connections}`;
  const joined = new Set<string>();
  const reply = (event: object) => ws.send(JSON.stringify(event));
  const broadcast = (room: string, event: object, ref: string | number | undefined) => {
    // Serialised once for the room; only the sender's copy (with its ref) differs.
    const shared = Buffer.from(JSON.stringify(event));
    const own = ref === undefined ? shared : Buffer.from(JSON.stringify({ ...event, ref }));
    for (const member of rooms.get(room) ?? []) {
      if (member.readyState !== member.OPEN) continue;
      if (member.bufferedAmount > MAX_BUFFERED) {
        member.close(1013, 'too slow: the send buffer is full');
        continue;
      }
      member.send(member === ws ? own : shared, { binary: false });
    }
  };
  ws.on('error', () => {});
  ws.on('close', () => {
    for (const room of joined) {
      const members = rooms.get(room);
      members?.delete(ws);
      if (members?.size === 0) rooms.delete(room);
    }
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return reply({ type: 'error', code: 'invalid_message', message: 'messages are JSON text frames' } satisfies ErrorEvent);
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      return reply({ type: 'error', code: 'bad_json', message: 'the message is not valid JSON' } satisfies ErrorEvent);
    }
    const d = decide(raw, (room) => joined.has(room));
    switch (d.kind) {
      case 'error':
        return reply(d.event);
      case 'join': {
        let members = rooms.get(d.room);
        if (!members) rooms.set(d.room, (members = new Set()));
        members.add(ws);
        joined.add(d.room);
        return reply({ type: 'joined', room: d.room, lastSeq: sequencer.lastSeq(d.room), ...(d.ref === undefined ? {} : { ref: d.ref }) });
      }
      case 'send':
        return broadcast(d.room, sequencer.message(d.room, author, d.text, d.clientMsgId), d.ref);
      case 'react': {
        const { event, changed } = sequencer.reaction(d.room, d.id, d.emoji, author, d.added);
        if (!changed) return reply(d.ref === undefined ? event : { ...event, ref: d.ref });
        return broadcast(d.room, event, d.ref);
      }
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ ready: true, port });
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
