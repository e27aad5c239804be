import type { ServerMessage } from '@chat/schema';
import type { Broker, NodeEvent } from './events.js';
import { OutgoingEvent, type ChatPeer } from './peer.js';

/** Tells users, on whichever nodes their connections are, of something that is not a room's message. */
export type Notify = (users: readonly number[], message: ServerMessage) => Promise<void>;

/**
 * Messages for a user rather than a room: an invitation, a direct
 * conversation someone opened with them. They travel as node events (every
 * node hears them: they are rare, a room's traffic is not), and each node
 * hands them to its own connections of those users, whatever rooms those
 * have joined.
 */
export class UserNotices {
  private readonly byUser = new Map<number, Set<ChatPeer>>();

  constructor(private readonly broker: Broker) {}

  readonly notify: Notify = async (users, message) => {
    if (users.length === 0) return;
    await this.broker.publishNode({ kind: 'user_notice', users: [...users], message });
  };

  add(peer: ChatPeer): void {
    let peers = this.byUser.get(peer.user.id);
    if (!peers) this.byUser.set(peer.user.id, (peers = new Set()));
    peers.add(peer);
  }

  remove(peer: ChatPeer): void {
    const peers = this.byUser.get(peer.user.id);
    if (!peers?.delete(peer) || peers.size > 0) return;
    this.byUser.delete(peer.user.id);
  }

  /** A `user_notice` from the broker, to this node's connections of its users. */
  deliver(event: Extract<NodeEvent, { kind: 'user_notice' }>): void {
    let out: OutgoingEvent | undefined;
    for (const user of event.users) {
      const peers = this.byUser.get(user);
      if (!peers) continue;
      out ??= OutgoingEvent.of(event.message);
      for (const peer of peers) peer.send(out);
    }
  }
}
