/**
 * When a connection's writes are held until the end of the turn
 * (src/plugins/turn-corking.ts), on real loopback sockets: a lone write
 * leaves at once, a burst is held and leaves in order, and a connection that
 * just had a burst is held from the first write of its next busy turn.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnCorking, type Corkable } from '../src/plugins/turn-corking.js';

class SocketPeer extends TurnCorking {
  constructor(readonly socket: net.Socket) {
    super();
  }
  protected corkable(): Corkable {
    return this.socket;
  }
  write(text: string): void {
    this.beforeWrite();
    this.socket.write(text);
  }
}

/** Lets the end-of-turn microtask (and the socket's I/O) run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const open: net.Server[] = [];
afterEach(async () => {
  for (const server of open.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A connected pair: our writing end (in a peer) and what the other end has received so far. */
async function pair(): Promise<{ peer: SocketPeer; received: () => string; close: () => void }> {
  let accepted!: net.Socket;
  const server = net.createServer((s) => (accepted = s));
  open.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  let data = '';
  client.setEncoding('utf8');
  client.on('data', (chunk: string) => (data += chunk));
  await new Promise<void>((resolve) => client.once('connect', resolve));
  while (!accepted) await nextTurn();
  return {
    peer: new SocketPeer(accepted),
    received: () => data,
    close: () => {
      client.destroy();
      accepted.destroy();
    },
  };
}

async function until(what: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await nextTurn();
  }
}

describe('turn corking', () => {
  it('writes a lone message at once, without holding the socket', async () => {
    const { peer, received, close } = await pair();
    peer.write('a');
    expect(peer.isHolding).toBe(false);
    expect(peer.socket.writableCorked).toBe(0);
    expect(peer.socket.writableLength).toBe(0); // handed to the kernel already
    await until(() => received() === 'a');
    close();
  });

  it('holds a burst from its second write and releases it at the end of the turn, in order', async () => {
    const { peer, received, close } = await pair();
    peer.write('1');
    peer.write('2');
    peer.write('3');
    expect(peer.isHolding).toBe(true);
    expect(peer.socket.writableCorked).toBe(1);
    expect(peer.socket.writableLength).toBe(2); // '2' and '3' wait for the end of the turn
    await nextTurn();
    expect(peer.isHolding).toBe(false);
    expect(peer.socket.writableCorked).toBe(0);
    await until(() => received() === '123');
    close();
  });

  it('holds from the first write after a burst, and writes at once again after a lone write', async () => {
    const { peer, received, close } = await pair();
    peer.write('a');
    peer.write('b'); // a burst
    await nextTurn();
    peer.write('c'); // expected to be followed: held from the start
    expect(peer.isHolding).toBe(true);
    expect(peer.socket.writableLength).toBe(1);
    await nextTurn(); // that turn had one write only
    peer.write('d');
    expect(peer.isHolding).toBe(false);
    expect(peer.socket.writableLength).toBe(0);
    await nextTurn();
    await until(() => received() === 'abcd');
    close();
  });

  it('keeps each connection to its own rhythm within one turn', async () => {
    const busy = await pair();
    const quiet = await pair();
    busy.peer.write('x');
    busy.peer.write('y');
    await nextTurn();
    busy.peer.write('z');
    quiet.peer.write('q');
    expect(busy.peer.isHolding).toBe(true);
    expect(quiet.peer.isHolding).toBe(false);
    await nextTurn();
    await until(() => busy.received() === 'xyz' && quiet.received() === 'q');
    busy.close();
    quiet.close();
  });
});
