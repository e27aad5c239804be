import type { Broker, RoomEvent } from './events.js';
import type { PeerState } from './peer-state.js';
import type { PresenceRegistry } from './presence.js';
import type { RoomCursor } from './room-delivery.js';

/** Reports what failed with no client request waiting on it (presence, broker, a leave). */
export type BackgroundFailure = (what: string, err: unknown) => void;

/**
 * This node's side of room membership: which local connections are in which
 * room (the broker is subscribed while any is), and who is online — counted
 * per (room, user) here, with the presence registry told only on 0 ↔ 1, so a
 * user with two tabs is announced once.
 */
export class LocalRooms {
  private readonly local = new Map<string, Set<PeerState>>();
  /** room → user id → local connections joined. */
  private readonly online = new Map<string, Map<number, number>>();
  /** Leaves of closed connections still talking to the broker and the presence registry. */
  private readonly leaving = new Set<Promise<void>>();

  constructor(
    private readonly broker: Broker,
    private readonly presence: PresenceRegistry,
    private readonly background: BackgroundFailure,
  ) {
    // A node died with users in rooms: whoever noticed announces them offline.
    presence.setExpiredHandler((room, userId, user) => {
      this.publishQuietly({ kind: 'presence', room, userId, user, state: 'offline' });
    });
  }

  /** The local connections in a room. */
  peers(roomId: string): ReadonlySet<PeerState> | undefined {
    return this.local.get(roomId);
  }

  /** Every room with local connections, and those connections. */
  entries(): IterableIterator<[string, ReadonlySet<PeerState>]> {
    return this.local.entries();
  }

  /** Ids of the users in a room on any node; this node's own view when the registry cannot answer. */
  async onlineUsers(roomId: string): Promise<ReadonlySet<number>> {
    try {
      return await this.presence.online(roomId);
    } catch (err) {
      this.background('presence', err);
      return new Set(this.online.get(roomId)?.keys() ?? []);
    }
  }

  /** The connection is in the room from now on (it hears everything published from here); presence is announced. */
  async enter(state: PeerState, roomId: string, cursor: RoomCursor): Promise<void> {
    state.addRoom(roomId, cursor);
    let peers = this.local.get(roomId);
    if (!peers) {
      peers = new Set();
      this.local.set(roomId, peers);
      await this.broker.subscribe(roomId);
    }
    peers.add(state);
    let users = this.online.get(roomId);
    if (!users) this.online.set(roomId, (users = new Map()));
    const { id, username } = state.peer.user;
    const count = (users.get(id) ?? 0) + 1;
    users.set(id, count);
    if (count === 1 && (await this.presenceChange(() => this.presence.arrive(roomId, id, username)))) {
      await this.broker.publish({ kind: 'presence', room: roomId, userId: id, user: username, state: 'online' });
    }
  }

  /** The connection is out of the room (if it was in); its user is announced offline when this was their last connection there. */
  async exit(state: PeerState, roomId: string): Promise<void> {
    if (!state.removeRoom(roomId)) return;
    const peers = this.local.get(roomId);
    if (peers) {
      peers.delete(state);
      if (peers.size === 0) {
        this.local.delete(roomId);
        await this.broker.unsubscribe(roomId);
      }
    }
    const users = this.online.get(roomId);
    const { id, username } = state.peer.user;
    const count = (users?.get(id) ?? 1) - 1;
    if (users) {
      if (count <= 0) users.delete(id);
      else users.set(id, count);
      if (users.size === 0) this.online.delete(roomId);
    }
    if (count <= 0 && (await this.presenceChange(() => this.presence.depart(roomId, id)))) {
      await this.broker.publish({ kind: 'presence', room: roomId, userId: id, user: username, state: 'offline' });
    }
  }

  /** Out of the room with no one to answer (it was deleted, or the user removed): a failure is reported, not thrown. */
  exitQuietly(state: PeerState, roomId: string): void {
    this.exit(state, roomId).catch((err: unknown) => this.background('leave', err));
  }

  /** A closed connection leaves all its rooms; `drain` waits for that. */
  disconnect(state: PeerState): void {
    for (const roomId of [...state.rooms.keys()]) {
      const leaving: Promise<void> = this.exit(state, roomId)
        .catch((err: unknown) => this.background('leave', err))
        .finally(() => this.leaving.delete(leaving));
      this.leaving.add(leaving);
    }
  }

  async drain(): Promise<void> {
    while (this.leaving.size > 0) await Promise.allSettled([...this.leaving]);
  }

  /** Publishes with no caller to tell; a failure is reported, never thrown. */
  publishQuietly(event: RoomEvent): void {
    try {
      const pending = this.broker.publish(event);
      if (pending) pending.catch((err: unknown) => this.background('broker', err));
    } catch (err) {
      this.background('broker', err);
    }
  }

  /** Presence is advisory: a registry that fails announces nothing and blocks nothing. */
  private async presenceChange(ask: () => boolean | Promise<boolean>): Promise<boolean> {
    try {
      return await ask();
    } catch (err) {
      this.background('presence', err);
      return false;
    }
  }
}
