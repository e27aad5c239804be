import type { ServerMessage } from '@chat/schema';
import type { Broker, NodeEventHandler, RoomEvent, RoomEventHandler } from '../../src/chat/events.js';
import type { ChatPeer, EndReason, OutgoingEvent } from '../../src/chat/peer.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { ChatStore } from '../../src/storage/store.js';
import { tempDir } from '../helpers/build.js';

/**
 * What the chat domain's unit tests run on: peers that record what they are
 * sent, a broker in memory (that may deliver out of order, as several nodes
 * do), and a real SQLite store whose calls a test can hold at a gate.
 */

let nextConnection = 0;

/** A client as the domain sees one; it records every event, decoded. */
export class FakePeer implements ChatPeer {
  readonly connectionId = `fake-${++nextConnection}`;
  readonly received: ServerMessage[] = [];
  readonly ended: EndReason[] = [];
  constructor(readonly user: { id: number; username: string }) {}
  send(event: OutgoingEvent): void {
    this.received.push(JSON.parse(event.json) as ServerMessage);
  }
  end(reason: EndReason): void {
    this.ended.push(reason);
  }
  of<T extends ServerMessage['type']>(type: T): Array<Extract<ServerMessage, { type: T }>> {
    return this.received.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
  /** Seqs of the chat messages received for a room, in arrival order. */
  seqs(room: string): number[] {
    return this.of('message')
      .filter((m) => m.room === room)
      .map((m) => m.seq);
  }
}

/** Waits until `done()` holds (the domain works through promises and the broker's turns). */
export async function until(done: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A broker in memory for one node: events are handed over at once, in publish order. */
export class MemoryBroker implements Broker {
  private handler: RoomEventHandler = () => {};
  private nodeHandler: NodeEventHandler = () => {};
  readonly subscribed = new Set<string>();
  setHandler(handler: RoomEventHandler): void {
    this.handler = handler;
  }
  setNodeHandler(handler: NodeEventHandler): void {
    this.nodeHandler = handler;
  }
  subscribe(room: string): void {
    this.subscribed.add(room);
  }
  unsubscribe(room: string): void {
    this.subscribed.delete(room);
  }
  publish(event: RoomEvent): void {
    this.deliver(event);
  }
  /** Hands an event to the domain as if another node had published it. */
  deliver(event: RoomEvent): void {
    this.handler(event);
  }
  publishNode(event: Parameters<NodeEventHandler>[0]): void {
    this.nodeHandler(event);
  }
  close(): void {}
}

/**
 * A bus between several nodes in memory, as Redis pub/sub behaves: what one
 * node publishes reaches every node in that node's publish order, but the
 * streams of different nodes interleave at random (each hop waits 0-7 ms).
 */
export class MemoryBus {
  private readonly nodes: MemoryBroker[] = [];
  /** The broker of one more node. */
  node(): Broker {
    const broker = new MemoryBroker();
    const streams = new Map<MemoryBroker, RoomEvent[]>();
    this.nodes.push(broker);
    broker.publish = (event: RoomEvent) => {
      for (const to of this.nodes) {
        let stream = streams.get(to);
        if (!stream) streams.set(to, (stream = []));
        stream.push(event);
        // One hop per event; FIFO per (publisher, subscriber) whatever the delays.
        setTimeout(() => to.deliver(stream.shift()!), Math.floor(Math.random() * 8));
      }
    };
    return broker;
  }
}

type StoreMethod = { [K in keyof ChatStore]: ChatStore[K] extends (...args: never[]) => unknown ? K : never }[keyof ChatStore];

/** A real SQLite store (a file in a temporary folder) whose next call to a method can be held until released. */
export async function gatedStore(): Promise<{ store: ChatStore; hold(method: StoreMethod): { reached: Promise<void>; release(): void }; fail(method: StoreMethod, error: Error): void; close(): Promise<void> }> {
  const dir = await tempDir();
  const real = openSqliteStore(`${dir.path}/chat.db`);
  const gates = new Map<string, { arrived: () => void; opened: Promise<void>; error?: Error }>();
  const store = new Proxy(real, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const gate = gates.get(String(name));
        if (!gate) return (value as (...a: unknown[]) => unknown).apply(target, args);
        gates.delete(String(name));
        gate.arrived();
        return gate.opened.then(() => {
          if (gate.error) throw gate.error;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        });
      };
    },
  });
  return {
    store,
    hold(method) {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      const opened = new Promise<void>((resolve) => (release = resolve));
      gates.set(method, { arrived, opened });
      return { reached, release };
    },
    fail(method, error) {
      gates.set(method, { arrived: () => {}, opened: Promise.resolve(), error });
    },
    async close() {
      await real.close();
      await dir.remove();
    },
  };
}
