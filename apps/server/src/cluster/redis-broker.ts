import { Redis } from 'ioredis';
import type { Broker, NodeEvent, NodeEventHandler, RoomEvent, RoomEventHandler } from '../chat/events.js';

export interface RedisBrokerOptions {
  /** This process's name on the bus (node id + a per-start suffix): its own events are not handled twice. */
  instanceId: string;
  /** Key and channel prefix, so several deployments (or tests) can share one Redis. Default `chat:`. */
  prefix?: string;
  /** Told about connection errors (the client reconnects by itself). */
  onError?: (err: Error) => void;
}

/**
 * Fan-out between nodes over Redis pub/sub, one channel per room, and one
 * channel every node listens to for node-wide events (a session signed out).
 *
 * An event is handed to this node's subscribers at once, in publish order,
 * then published; a node skips its own events when they come back. Pub/sub
 * keeps nothing: an event published while a node is cut off is lost to it.
 * That is safe for messages because they are committed before they are
 * published, every connection's cursor fills a `seq` gap from the database
 * when the next message arrives, and after a reconnect every connection reads
 * what it missed (`resync`); typing and presence notices are advisory.
 */
export class RedisBroker implements Broker {
  private handler: RoomEventHandler = () => {};
  private nodeHandler: NodeEventHandler = () => {};
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channelPrefix: string;
  private readonly nodeChannel: string;
  private readonly nodeChannelBytes: Buffer;
  /** `<instance>\n`: the start of every payload this node sends, compared before any parsing. */
  private readonly origin: Buffer;

  constructor(url: string, options: RedisBrokerOptions) {
    const prefix = options.prefix ?? 'chat:';
    this.channelPrefix = `${prefix}room:`;
    this.nodeChannel = `${prefix}nodes`;
    this.nodeChannelBytes = Buffer.from(this.nodeChannel);
    this.origin = Buffer.from(`${options.instanceId}\n`);
    const onError = options.onError ?? (() => {});
    // A command fails after a couple of reconnect attempts instead of waiting
    // forever, so a join or an admin action answers with an error.
    this.publisher = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
    this.publisher.on('error', onError);
    this.subscriber.on('error', onError);
    // Every `ready` after the first is a reconnect: the client has sent its
    // resubscriptions by then, and one more SUBSCRIBE answered means they are
    // in (a connection's commands run in order); events published from that
    // point arrive, and what came before is read back (`resync`).
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (!connectedBefore) {
        connectedBefore = true;
        return;
      }
      this.subscriber.subscribe(this.nodeChannel).then(
        () => this.nodeHandler({ kind: 'resync' }),
        (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))),
      );
    });
    this.subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      if (channel.equals(this.nodeChannelBytes)) this.receiveNode(payload);
      else this.receive(payload);
    });
  }

  /** Connects both clients and listens for node-wide events; rejects when Redis cannot be reached (start-up fails with the reason). */
  async connect(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    // Resubscribed by the client after a reconnect, as the rooms are.
    await this.subscriber.subscribe(this.nodeChannel);
  }

  setHandler(handler: RoomEventHandler): void {
    this.handler = handler;
  }

  async subscribe(room: string): Promise<void> {
    await this.subscriber.subscribe(this.channelPrefix + room);
  }

  async unsubscribe(room: string): Promise<void> {
    await this.subscriber.unsubscribe(this.channelPrefix + room);
  }

  async publish(event: RoomEvent): Promise<void> {
    this.handler(event);
    // `replyTo` names a connection of this node, which has already had its copy.
    const { replyTo: _local, ...shared } = event as RoomEvent & { replyTo?: unknown };
    const payload = Buffer.concat([this.origin, Buffer.from(JSON.stringify(shared))]);
    await this.publisher.publish(this.channelPrefix + event.room, payload);
  }

  setNodeHandler(handler: NodeEventHandler): void {
    this.nodeHandler = handler;
  }

  async publishNode(event: NodeEvent): Promise<void> {
    this.nodeHandler(event);
    await this.publisher.publish(this.nodeChannel, Buffer.concat([this.origin, Buffer.from(JSON.stringify(event))]));
  }

  async ping(): Promise<boolean> {
    return (await this.publisher.ping()) === 'PONG';
  }

  async close(): Promise<void> {
    // quit() sends what is queued (the last presence notices) before closing.
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
  }

  private receive(payload: Buffer): void {
    const event = this.parse(payload) as RoomEvent | undefined;
    if (!event || typeof event.room !== 'string') return;
    this.handler(event);
  }

  private receiveNode(payload: Buffer): void {
    const event = this.parse(payload) as NodeEvent | undefined;
    if (event?.kind === 'session_ended' && typeof event.session === 'string') this.nodeHandler(event);
    else if (event?.kind === 'user_deactivated' && typeof event.userId === 'number') this.nodeHandler(event);
    else if (event?.kind === 'user_notice' && Array.isArray(event.users) && typeof event.message === 'object' && event.message !== null) {
      this.nodeHandler(event);
    }
  }

  /** Another node's event (this node's own are skipped: they were handled when published), or undefined. */
  private parse(payload: Buffer): { kind?: unknown } | undefined {
    const origin = this.origin;
    if (payload.length > origin.length && payload.subarray(0, origin.length).equals(origin)) return undefined;
    const newline = payload.indexOf(10);
    if (newline < 0) return undefined;
    let event: unknown;
    try {
      event = JSON.parse(payload.toString('utf8', newline + 1));
    } catch {
      return undefined; // Not ours (another program on the channel): ignored.
    }
    return typeof event === 'object' && event !== null ? (event as { kind?: unknown }) : undefined;
  }
}
