#!/usr/bin/env node
// The server side of the loopback benchmarks (bench/run.mjs): an echo server on
// 127.0.0.1, port 0, built either on this package or on `ws`, so that the
// benchmark's clients and the server each get a process (and a core).
//
//   node --expose-gc bench/echo-target.mjs ours|ws
//
// Prints the port on the first line of stdout. When started with an IPC
// channel (by run.mjs) it answers { cmd: 'stats' } and { cmd: 'gc-rss' }.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { acceptUpgrade } from '../dist/index.js';

const require = createRequire(import.meta.url);
const impl = process.argv[2];
if (impl !== 'ours' && impl !== 'ws') {
  console.error('usage: echo-target.mjs ours|ws');
  process.exit(2);
}

const MAX_PAYLOAD = 16 * 1024 * 1024;
let open = 0;
let accepted = 0;

const server = http.createServer((_req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket only\n');
});
// The same http.Server (defaults) for both: only the upgrade handling differs.

if (impl === 'ours') {
  server.on('upgrade', (request, socket, head) => {
    const connection = acceptUpgrade(request, socket, head, { maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
    if (!connection) return;
    open++;
    accepted++;
    connection.on('error', () => {});
    connection.on('close', () => {
      open--;
    });
    connection.on('message', (data, isBinary) => {
      connection.send(data, { binary: isBinary });
    });
  });
} else {
  const { WebSocketServer } = require('ws');
  // ws' defaults, apart from what ours is told too (no compression, same limit).
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD });
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      open++;
      accepted++;
      ws.on('error', () => {});
      ws.on('close', () => {
        open--;
      });
      ws.on('message', (data, isBinary) => {
        ws.send(data, { binary: isBinary });
      });
    });
  });
}

function openFilesLimit() {
  try {
    const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? { soft: m[1], hard: m[2] } : undefined;
  } catch {
    return undefined;
  }
}

async function settleGc() {
  if (typeof global.gc !== 'function') return false;
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

if (process.send) {
  let cpuMark = process.cpuUsage();
  let wallMark = process.hrtime.bigint();
  process.on('message', async (msg) => {
    if (msg?.cmd === 'stats') {
      process.send({ id: msg.id, open, accepted, rss: process.memoryUsage().rss });
    } else if (msg?.cmd === 'cpu-mark') {
      cpuMark = process.cpuUsage();
      wallMark = process.hrtime.bigint();
      process.send({ id: msg.id });
    } else if (msg?.cmd === 'cpu-since-mark') {
      const u = process.cpuUsage(cpuMark);
      const wallUs = Number(process.hrtime.bigint() - wallMark) / 1e3;
      process.send({ id: msg.id, cpu: (u.user + u.system) / wallUs });
    } else if (msg?.cmd === 'gc-rss') {
      const gc = await settleGc();
      const m = process.memoryUsage();
      process.send({ id: msg.id, gc, open, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

server.listen(0, '127.0.0.1', () => {
  console.log(String(server.address().port));
  if (process.send) process.send({ ready: true, port: server.address().port, nofile: openFilesLimit() });
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
