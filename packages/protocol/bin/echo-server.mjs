#!/usr/bin/env node
// An echo server built only on @chat/protocol: the target for Autobahn|Testsuite
// and the package's smoke test. Run `pnpm build` first.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { acceptUpgrade, limitHandshakeTime } from '../dist/index.js';

const usage = `usage: echo-server [--port N] [--host H] [--max-payload BYTES] [--origin URL]...
                   [--handshake-timeout-ms N] [--idle-timeout-ms N] [--max-buffered-bytes N]
                   [--no-deflate]`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string', default: '9001' },
      host: { type: 'string', default: '127.0.0.1' },
      'max-payload': { type: 'string', default: String(16 * 1024 * 1024) },
      origin: { type: 'string', multiple: true },
      'handshake-timeout-ms': { type: 'string', default: '10000' },
      'idle-timeout-ms': { type: 'string', default: '0' },
      'max-buffered-bytes': { type: 'string', default: String(16 * 1024 * 1024) },
      'no-deflate': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}

function integer(name, min) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be an integer ≥ ${min}\n${usage}`);
    process.exit(2);
  }
  return value;
}

const port = integer('port', 0);
const maxPayload = integer('max-payload', 1);
const handshakeTimeoutMs = integer('handshake-timeout-ms', 1);
const idleTimeoutMs = integer('idle-timeout-ms', 0);
const maxBufferedBytes = integer('max-buffered-bytes', 1);
const origins = args.origin;

const server = http.createServer((_req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
  res.end('this is a WebSocket echo server\n');
});
limitHandshakeTime(server, handshakeTimeoutMs);

server.on('upgrade', (request, socket, head) => {
  const connection = acceptUpgrade(request, socket, head, {
    maxPayload,
    idleTimeoutMs,
    maxBufferedBytes,
    perMessageDeflate: !args['no-deflate'],
    // Browsers always send Origin; tools usually do not. Only a listed Origin passes.
    verifyOrigin: origins ? (origin) => origin !== undefined && origins.includes(origin) : undefined,
  });
  if (!connection) return;
  let paused = false;
  connection.on('error', () => {}); // reported through 'close'; an echo server has nothing to add
  connection.on('message', (data, isBinary) => {
    // Backpressure: a peer that sends but does not read stops being read.
    if (!connection.send(data, { binary: isBinary }) && !paused) {
      paused = true;
      connection.pause();
      connection.once('drain', () => {
        paused = false;
        connection.resume();
      });
    }
  });
});

server.listen(port, args.host, () => {
  const address = server.address();
  console.log(`echo server listening on ws://${args.host}:${address.port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
