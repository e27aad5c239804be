// A client connection with one face for both libraries (onMessage, send,
// terminate): what the loopback rows drive, from run.mjs or from
// echo-clients.mjs in worker threads.
import { createRequire } from 'node:module';
import { connect } from '../dist/index.js';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

export async function openClient(kind, url) {
  if (kind === 'ours') {
    const c = await connect(url, { handshakeTimeoutMs: 20_000 });
    c.on('error', () => {});
    return {
      onMessage: (f) => c.on('message', f),
      send: (b) => c.send(b, { binary: false }),
      terminate: () => c.terminate(),
    };
  }
  const c = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 20_000 });
  c.on('error', () => {});
  await new Promise((resolve, reject) => {
    c.once('open', resolve);
    c.once('error', reject);
    c.once('close', () => reject(new Error('closed')));
  });
  return {
    onMessage: (f) => c.on('message', f),
    send: (b) => c.send(b, { binary: false }),
    terminate: () => c.terminate(),
  };
}
