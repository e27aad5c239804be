#!/usr/bin/env node
// Issue #24 items 6–8 as a script (memory figures do not belong in tests): spawns
// bin/echo-server.mjs with the flags of the bad-input suite, runs each attack
// against a fresh server over raw TCP and prints the server's memory growth and
// when and how the connection ended. Run `pnpm build` first.
//
//   node packages/protocol/bench/bad-input.mjs [--echo-server PATH] [--only ping|fragments|silent]
//
// Every attack is bounded in time (and the ping flood in volume) so that it
// ends on code that has the bug too. Linux only (the probe counts TCP sockets
// with process.getActiveResourcesInfo, which Node 20 has everywhere; the
// numbers are Node's own memoryUsage()).
import { fork } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'echo-server': { type: 'string', default: fileURLToPath(new URL('../bin/echo-server.mjs', import.meta.url)) },
    only: { type: 'string' },
  },
});

const MAX_PAYLOAD = 1_048_576;
const IDLE_TIMEOUT_MS = 10_000;
const FLAGS = ['--max-payload', String(MAX_PAYLOAD), '--handshake-timeout-ms', '8000', '--idle-timeout-ms', String(IDLE_TIMEOUT_MS)];
const MB = 1024 * 1024;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The echo server in a child process, with the memory probe preloaded. */
async function startEcho() {
  const child = fork(args['echo-server'], ['--port', '0', ...FLAGS], {
    execArgv: ['--expose-gc', '--import', pathToFileURL(fileURLToPath(new URL('./memory-probe.mjs', import.meta.url))).href],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the echo server exited (${code})`)));
  });
  const probe = (request = 'sample') =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send(request);
    });
  return { port, probe, stop: () => child.kill('SIGKILL') };
}

/** A TCP client that has completed the opening handshake (no extensions offered). */
async function upgrade(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const key = crypto.randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise((resolve, reject) => {
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head.split('\r\n')[0]));
      else resolve();
    };
    socket.on('data', onData);
  });
  return socket;
}

/** A masked client frame (key 0: masked as the RFC requires, bytes unchanged) with a payload under 126 bytes. */
function frame(opcode, payload, fin = true) {
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/** Writes `data`, waiting for the socket to take it (or to close). */
async function writeAll(socket, data) {
  if (socket.write(data)) return true;
  return new Promise((resolve) => {
    socket.once('drain', () => resolve(true));
    socket.once('close', () => resolve(false));
  });
}

const mb = (bytes) => `${(bytes / MB).toFixed(1)} MB`;
const growth = (base, now) =>
  `rss +${mb(now.rss - base.rss)}, heap +${mb(now.heapUsed - base.heapUsed)}, external +${mb(now.external - base.external)}`;

/** A client that pings as fast as it can and never reads (the pongs pile up). */
async function pingFlood() {
  const echo = await startEcho();
  try {
    const base = await echo.probe('gc');
    const socket = await upgrade(echo.port);
    socket.pause();
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame(0x9, Buffer.alloc(125, 0x70))));
    const started = Date.now();
    let peak = base;
    let sent = 0;
    let closedAt;
    // Bounded: 10 s or 2 GB of pings, whichever comes first.
    while (Date.now() - started < 10_000 && sent < 2000 * MB) {
      const ok = await Promise.race([writeAll(socket, batch), sleep(250).then(() => 'stalled')]);
      if (ok === false) break;
      if (ok === true) sent += batch.length;
      const m = await echo.probe();
      if (m.rss > peak.rss) peak = m;
      if (m.sockets === 0) {
        closedAt = Date.now() - started;
        break;
      }
    }
    const floodEnded = Date.now() - started;
    // The server may still be closing (its close frame waits behind the backlog, for at most 5 s).
    while (closedAt === undefined && Date.now() - started < floodEnded + 10_000) {
      await sleep(100);
      if ((await echo.probe()).sockets === 0) closedAt = Date.now() - started;
    }
    const after = await echo.probe('gc');
    socket.destroy();
    console.log(`ping flood, nothing read: ${mb(sent)} of 125-byte pings written in ${(floodEnded / 1000).toFixed(1)} s`);
    console.log(`  peak: ${growth(base, peak)}`);
    console.log(`  after GC: ${growth(base, after)}`);
    console.log(`  ${closedAt === undefined ? `still open ${((Date.now() - started) / 1000).toFixed(1)} s after the flood began` : `server closed the connection ${(closedAt / 1000).toFixed(1)} s after the flood began`}`);
  } finally {
    echo.stop();
  }
}

/** Eight messages of 1-byte fragments up to just under maxPayload, never finished. */
async function unfinishedFragments() {
  const echo = await startEcho();
  try {
    const base = await echo.probe('gc');
    const fragments = MAX_PAYLOAD - 1;
    const byte = Buffer.from([0x61]);
    const message = Buffer.concat([frame(0x2, byte, false), ...Array.from({ length: fragments - 1 }, () => frame(0x0, byte, false))]);
    const sockets = await Promise.all(Array.from({ length: 8 }, () => upgrade(echo.port)));
    const started = Date.now();
    await Promise.all(sockets.map((s) => writeAll(s, message)));
    // The last bytes are parsed a moment after the kernel takes them.
    let held = await echo.probe('gc');
    for (let i = 0; i < 10; i++) {
      await sleep(200);
      const m = await echo.probe('gc');
      if (Math.abs(m.rss - held.rss) < MB && m.heapUsed + m.external <= held.heapUsed + held.external + MB) break;
      held = m;
    }
    held = await echo.probe('gc');
    console.log(
      `8 unfinished messages of ${fragments} 1-byte fragments (${mb(8 * fragments)} of payload, ${mb(8 * message.length)} on the wire), sent in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(`  held, after GC: ${growth(base, held)}; open connections ${held.sockets}`);
    for (const s of sockets) s.destroy();
  } finally {
    echo.stop();
  }
}

/** A peer that completes the handshake and then sends nothing, pongs included. */
async function silentPeer() {
  const echo = await startEcho();
  try {
    const socket = await upgrade(echo.port);
    const started = Date.now();
    let pinged;
    socket.on('data', () => (pinged ??= Date.now() - started)); // read, never answered
    let closedAt;
    // Bounded: 4 × the idle timeout (the old heartbeat needed up to 3 ×).
    while (Date.now() - started < 4 * IDLE_TIMEOUT_MS) {
      await sleep(100);
      if ((await echo.probe()).sockets === 0) {
        closedAt = Date.now() - started;
        break;
      }
    }
    socket.destroy();
    console.log(`silent peer, --idle-timeout-ms ${IDLE_TIMEOUT_MS}: first ping after ${pinged === undefined ? '—' : `${(pinged / 1000).toFixed(1)} s`}`);
    console.log(
      `  ${closedAt === undefined ? `still open after ${4 * IDLE_TIMEOUT_MS / 1000} s` : `dropped after ${(closedAt / 1000).toFixed(1)} s (${(closedAt / IDLE_TIMEOUT_MS).toFixed(2)} × the timeout)`}`,
    );
  } finally {
    echo.stop();
  }
}

const attacks = { ping: pingFlood, fragments: unfinishedFragments, silent: silentPeer };
console.log(`echo server: ${args['echo-server']} ${FLAGS.join(' ')}`);
for (const [name, run] of Object.entries(attacks)) {
  if (args.only === undefined || args.only === name) await run();
}
