import type { PresenceBatchEvent } from '@chat/schema';
import type { RoomEvent } from './events.js';
import type { LocalRooms } from './local-rooms.js';
import { OutgoingEvent } from './peer.js';

type PresenceChange = Extract<RoomEvent, { kind: 'presence' }>;

/**
 * Presence for the connections that joined a room with `presence: "batched"`:
 * the changes of one event-loop turn are gathered per room and go out as one
 * `presence_batch` (each user once, in their latest state), encoded once for
 * everyone but the users it names, who get it without themselves.
 *
 * Why: one `presence` per join to every member makes filling a room O(n²)
 * frames — 1,000 joins into one room wrote half a million of them, 28 % of the
 * server's main thread in writes alone (the bench's scenario 1 join phase,
 * `--cpu-prof`). Joins commit in groups, so a turn carries many of them, and a
 * member gets one frame per turn instead of one per join.
 */
export class PresenceBatches {
  /** room → username → the change, in arrival order (a later change of a user replaces theirs). */
  private readonly waiting = new Map<string, Map<string, PresenceChange>>();
  private scheduled = false;

  constructor(private readonly rooms: Pick<LocalRooms, 'peers'>) {}

  /** Holds the change for the room's batched connections until the end of this turn. */
  add(event: PresenceChange): void {
    let room = this.waiting.get(event.room);
    if (!room) this.waiting.set(event.room, (room = new Map()));
    room.delete(event.user);
    room.set(event.user, event);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends every room's batch to the batched connections in it now. */
  flush(): void {
    this.scheduled = false;
    const rooms = [...this.waiting];
    this.waiting.clear();
    for (const [roomId, changes] of rooms) {
      const peers = this.rooms.peers(roomId);
      if (!peers) continue;
      const shared = OutgoingEvent.of(batchOf(roomId, changes.values()));
      // The users named hear of everyone but themselves, as with `presence`; one encoding each.
      const without = new Map<number, OutgoingEvent | null>();
      for (const state of peers) {
        if (!state.rooms.get(roomId)?.batchedPresence) continue;
        const userId = state.peer.user.id;
        const own = changes.get(state.peer.user.username);
        if (!own || own.userId !== userId) {
          state.peer.send(shared);
          continue;
        }
        let out = without.get(userId);
        if (out === undefined) {
          const others = [...changes.values()].filter((c) => c.userId !== userId);
          out = others.length === 0 ? null : OutgoingEvent.of(batchOf(roomId, others));
          without.set(userId, out);
        }
        if (out) state.peer.send(out);
      }
    }
  }
}

function batchOf(room: string, changes: Iterable<PresenceChange>): PresenceBatchEvent {
  const event: PresenceBatchEvent = { type: 'presence_batch', room, online: [], offline: [] };
  for (const c of changes) (c.state === 'online' ? event.online : event.offline).push(c.user);
  return event;
}
