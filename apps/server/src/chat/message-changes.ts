import { DomainError } from '../domain-error.js';
import type { ChatStore, MessageRecord } from '../storage/store.js';
import { MEMBER, authorize } from './access.js';
import type { Broker } from './events.js';
import type { PeerState, Ref } from './peer-state.js';
import type { RoomService } from './rooms.js';
import type { ModerationAudit } from './chat-service.js';
import type { SendGate } from './send-gate.js';

/**
 * `edit` and `delete` over the socket: one's own message, or (deleting) anyone's
 * as an owner or moderator; stored, then every connection in the room hears of
 * it as `message_updated` (the asker's copy with its `ref`).
 */
export class MessageChanges {
  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    private readonly rooms: RoomService,
    private readonly gate: SendGate,
    private readonly audit: ModerationAudit,
  ) {}

  async edit(state: PeerState, roomId: string, id: number, text: string, ref: Ref): Promise<void> {
    this.gate.checkText(text);
    await this.changeable(state, roomId, id, 'edit_message');
    this.gate.take(state);
    const updated = await this.store.editMessage(roomId, id, text, Date.now());
    if (!updated) throw new DomainError('not_found', `no message ${id} in ${roomId}`);
    await this.publish(state, updated, ref);
  }

  async remove(state: PeerState, roomId: string, id: number, ref: Ref): Promise<void> {
    const message = await this.changeable(state, roomId, id, 'delete_message');
    this.gate.take(state);
    const updated = await this.store.deleteMessage(roomId, id, Date.now());
    if (!updated) throw new DomainError('not_found', `no message ${id} in ${roomId}`);
    await this.publish(state, updated, ref);
    await this.rooms.dropFiles(message);
    // Someone else's message: a moderator's act, for the audit log.
    if (message.authorId !== state.peer.user.id) {
      const facts = { room: roomId, target: message.author, message: id };
      await this.audit(state.peer.user.username, 'delete_message', state.peer.ip ?? null, facts);
    }
  }

  /** A message of this room that the connection's user may edit (their own) or delete (theirs, or anyone's as a moderator). */
  private async changeable(state: PeerState, roomId: string, id: number, action: 'edit_message' | 'delete_message'): Promise<MessageRecord> {
    const cursor = state.joined(roomId);
    authorize(action, MEMBER, roomId, cursor);
    const message = await this.store.getMessage(roomId, id);
    if (!message || message.deletedAt !== null) throw new DomainError('not_found', `no message ${id} in ${roomId}`);
    const byAsker = message.authorId === state.peer.user.id;
    // Someone else's: the role decides, read now (roles change while connections stay).
    const who = byAsker ? MEMBER : await this.rooms.standing({ userId: state.peer.user.id }, roomId);
    authorize(action, who, roomId, byAsker ? cursor : await this.store.getRoom(roomId), { byAsker });
    return message;
  }

  private async publish(state: PeerState, message: MessageRecord, ref: Ref): Promise<void> {
    await this.broker.publish({
      kind: 'message_updated',
      room: message.roomId,
      message,
      ...(ref === undefined ? {} : { replyTo: { connectionId: state.peer.connectionId, ref } }),
    });
  }
}
