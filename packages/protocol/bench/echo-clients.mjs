// A worker thread of echo clients for run.mjs: opens `count` connections to
// `url`, and on 'start' keeps `window` messages in flight on each (every echo
// sends the next) until 'stop', then waits for what is in flight and says
// 'stopped'. Echoes received are counted in `counts[slot]`, a shared array
// the main thread reads without asking.
import { parentPort, workerData } from 'node:worker_threads';
import { openClient } from './clients.mjs';

const { kind, url, count, window, message, counts, slot } = workerData;
const msg = Buffer.from(message);
const clients = [];
let running = false;
let inFlight = 0;
let received = 0;
let onIdle;

let failed;
try {
  for (let i = 0; i < count; i++) clients.push(await openClient(kind, url));
} catch (err) {
  failed = String(err?.message ?? err);
}
for (const c of clients) {
  c.onMessage(() => {
    counts[slot] = ++received;
    if (running) return c.send(msg);
    if (--inFlight === 0 && onIdle) onIdle();
  });
}
parentPort.on('message', (cmd) => {
  if (cmd === 'start') {
    running = true;
    for (const c of clients) for (let i = 0; i < window; i++) c.send(msg);
    inFlight = clients.length * window;
  } else if (cmd === 'stop') {
    running = false;
    onIdle = () => {
      onIdle = undefined;
      parentPort.postMessage('stopped');
    };
    if (inFlight === 0) onIdle();
  } else if (cmd === 'close') {
    for (const c of clients) c.terminate();
    parentPort.close();
  }
});
parentPort.postMessage(failed === undefined ? { ready: clients.length } : { failed });
