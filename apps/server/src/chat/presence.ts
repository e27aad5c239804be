/**
 * Who is online in which room, across every node. The chat domain counts its
 * own connections per (room, user) and tells the registry only when that count
 * goes 0 → 1 (`arrive`) or 1 → 0 (`depart`); the registry answers whether the
 * user just came online anywhere / went offline everywhere, so a user with
 * tabs on two nodes is announced once.
 *
 * Implementations: `InProcessPresence` (one node, the default) and
 * `RedisPresence` (several nodes; entries of a node that dies expire).
 */
export interface PresenceRegistry {
  /** This node now has the user in the room. True when no other node had them (announce "online"). */
  arrive(room: string, userId: number, username: string): boolean | Promise<boolean>;
  /** This node no longer has the user in the room. True when no other node has them (announce "offline"). */
  depart(room: string, userId: number): boolean | Promise<boolean>;
  /** Ids of the users online in a room on any node. */
  online(room: string): ReadonlySet<number> | Promise<ReadonlySet<number>>;
  /**
   * Where users are reported who went offline because their node vanished
   * without saying so (its entries expired). The domain announces them.
   */
  setExpiredHandler(handler: (room: string, userId: number, username: string) => void): void;
  close(): void | Promise<void>;
}

const NONE: ReadonlySet<number> = new Set();

/** One node: the domain's own counts are the whole truth, so every arrival and departure is announced. */
export class InProcessPresence implements PresenceRegistry {
  private readonly rooms = new Map<string, Set<number>>();

  arrive(room: string, userId: number): boolean {
    let users = this.rooms.get(room);
    if (!users) this.rooms.set(room, (users = new Set()));
    users.add(userId);
    return true;
  }

  depart(room: string, userId: number): boolean {
    const users = this.rooms.get(room);
    users?.delete(userId);
    if (users?.size === 0) this.rooms.delete(room);
    return true;
  }

  online(room: string): ReadonlySet<number> {
    return this.rooms.get(room) ?? NONE;
  }

  setExpiredHandler(): void {}
  close(): void {}
}
