/**
 * The socket.io twin: the minimal chat (./minimal-chat.ts) on socket.io 4,
 * WebSocket transport only (engine.io runs on `ws`, with bufferutil and
 * utf-8-validate). Each envelope travels as a `chat` event, so socket.io does
 * the JSON (de)serialisation of its packets; rooms are socket.io's own
 * (`socket.join`, `socket.to(room).emit`). No authentication, no persistence.
 *
 *   node dist/twins/socketio-twin.js     (reports its port over IPC)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { decide, Sequencer } from './minimal-chat.js';

const sequencer = new Sequencer();
let connections = 0;

const server = http.createServer();
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 1024 * 1024,
});

io.on('connection', (socket) => {
  const author = `guest-${++connections}`;
  socket.on('chat', (raw: unknown) => {
    const d = decide(raw, (room) => socket.rooms.has(room));
    switch (d.kind) {
      case 'error':
        socket.emit('chat', d.event);
        return;
      case 'join':
        void socket.join(d.room);
        socket.emit('chat', { type: 'joined', room: d.room, lastSeq: sequencer.lastSeq(d.room), ...(d.ref === undefined ? {} : { ref: d.ref }) });
        return;
      case 'send': {
        const event = sequencer.message(d.room, author, d.text, d.clientMsgId);
        // Everyone else gets one packet encoded once; the sender its copy with the ref.
        socket.to(d.room).emit('chat', event);
        socket.emit('chat', d.ref === undefined ? event : { ...event, ref: d.ref });
        return;
      }
      case 'react': {
        const { event, changed } = sequencer.reaction(d.room, d.id, d.emoji, author, d.added);
        if (changed) socket.to(d.room).emit('chat', event);
        socket.emit('chat', d.ref === undefined ? event : { ...event, ref: d.ref });
        return;
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
