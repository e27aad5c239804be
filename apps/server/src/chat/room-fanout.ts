import type { RoomEvent } from './events.js';
import type { LocalRooms } from './local-rooms.js';
import { OutgoingEvent } from './peer.js';
import { PresenceBatches } from './presence-batches.js';
import type { RoomDelivery } from './room-delivery.js';
import { toChatMessage } from './wire.js';

/**
 * What the broker hands this node, to the local connections it concerns:
 * messages through room delivery (ordered, gap-filled), everything else
 * encoded once and sent to each, and the changes that take a connection out
 * of a room (deleted, kicked, banned) applied to its membership.
 */
export class RoomFanout {
  private readonly batches: PresenceBatches;

  constructor(
    private readonly rooms: LocalRooms,
    private readonly delivery: RoomDelivery,
    private readonly fanout?: (recipients: number) => void,
  ) {
    this.batches = new PresenceBatches(rooms);
  }

  handle(event: RoomEvent): void {
    const peers = this.rooms.peers(event.room);
    if (!peers) return;
    switch (event.kind) {
      case 'message': {
        this.fanout?.(peers.size);
        this.delivery.deliver(peers, event);
        return;
      }
      case 'message_updated': {
        const body = { type: 'message_updated' as const, room: event.room, ...toChatMessage(event.message) };
        const shared = OutgoingEvent.of(body);
        for (const state of peers) {
          const own = event.replyTo && event.replyTo.connectionId === state.peer.connectionId;
          state.peer.send(own ? OutgoingEvent.of({ ...body, ref: event.replyTo!.ref }) : shared);
        }
        return;
      }
      case 'typing': {
        const out = OutgoingEvent.of({ type: 'typing', room: event.room, user: event.user });
        for (const state of peers) if (state.peer.user.id !== event.userId) state.peer.send(out);
        return;
      }
      case 'presence': {
        // Today's clients hear of each user at once; those that asked for batches at the end of the turn.
        let out: OutgoingEvent | undefined;
        let batched = false;
        for (const state of peers) {
          if (state.rooms.get(event.room)?.batchedPresence) batched = true;
          else if (state.peer.user.id !== event.userId) state.peer.send((out ??= OutgoingEvent.of({ type: 'presence', room: event.room, user: event.user, state: event.state })));
        }
        if (batched) this.batches.add(event);
        return;
      }
      case 'room_updated': {
        const out = OutgoingEvent.of({
          type: 'room',
          room: event.room,
          event: 'updated',
          title: event.title,
          topic: event.topic,
          private: event.private,
          archived: event.archived,
        });
        for (const state of peers) {
          const cursor = state.rooms.get(event.room);
          if (cursor) {
            cursor.archived = event.archived;
            cursor.private = event.private;
          }
          state.peer.send(out);
        }
        return;
      }
      case 'room_deleted': {
        const out = OutgoingEvent.of({ type: 'room', room: event.room, event: 'deleted' });
        for (const state of [...peers]) {
          state.peer.send(out);
          this.rooms.exitQuietly(state, event.room);
        }
        return;
      }
      case 'member_removed': {
        const out = OutgoingEvent.of({ type: 'room', room: event.room, event: event.reason });
        for (const state of [...peers]) {
          if (state.peer.user.id !== event.userId) continue;
          state.peer.send(out);
          this.rooms.exitQuietly(state, event.room);
        }
        return;
      }
      case 'reaction': {
        // Encoded once for the room, like a message; the asker's copy carries its ref.
        const body = {
          type: 'reaction' as const,
          room: event.room,
          id: event.messageId,
          emoji: event.emoji,
          user: event.user,
          added: event.added,
          count: event.count,
        };
        const shared = OutgoingEvent.of(body);
        for (const state of peers) {
          const own = event.replyTo && event.replyTo.connectionId === state.peer.connectionId;
          state.peer.send(own ? OutgoingEvent.of({ ...body, ref: event.replyTo!.ref }) : shared);
        }
        return;
      }
      case 'role_changed': {
        const out = OutgoingEvent.of({ type: 'role', room: event.room, user: event.user, role: event.role });
        for (const state of peers) state.peer.send(out);
        return;
      }
    }
  }
}
