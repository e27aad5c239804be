import type { ClientMessage } from '@chat/schema';
import type { NewMessage } from '../storage/store.js';
import { MEMBER, authorize } from './access.js';
import type { LocalRooms } from './local-rooms.js';
import type { Mentions } from './mentions.js';
import type { MessageWriter } from './message-writer.js';
import type { PeerState, Ref } from './peer-state.js';
import type { SendGate } from './send-gate.js';
import type { Threads } from './threads.js';
import type { Notify } from './user-notices.js';

type Send = Extract<ClientMessage, { type: 'send' }>;

/**
 * `send`: checked, queued for the next group commit, and once committed
 * published to the room (the sender's copy with its `ref` is the ack). A
 * plain message goes through without waiting on anything; a reply first
 * reads the message it answers, and a text with `@` the members it names —
 * the mentioned are told (`mention`) once it is stored.
 */
export class Sender {
  constructor(
    private readonly writer: MessageWriter,
    private readonly local: LocalRooms,
    private readonly gate: SendGate,
    private readonly threads: Threads,
    private readonly mentions: Mentions,
    private readonly notify: Notify,
    private readonly background: (what: string, err: unknown) => void,
  ) {}

  send(state: PeerState, msg: Send): void | Promise<void> {
    authorize('send', MEMBER, msg.room, state.joined(msg.room));
    this.gate.checkText(msg.text);
    this.gate.take(state);
    const message: NewMessage = { roomId: msg.room, authorId: state.peer.user.id, text: msg.text, clientMsgId: msg.clientMsgId, ts: Date.now() };
    if (msg.replyTo === undefined && !msg.text.includes('@')) {
      this.write(state, message, msg.ref);
      return;
    }
    return this.sendWithExtras(state, message, msg.replyTo, msg.ref);
  }

  private async sendWithExtras(state: PeerState, message: NewMessage, replyTo: number | undefined, ref: Ref): Promise<void> {
    const [quote, mentioned] = await Promise.all([
      replyTo === undefined ? undefined : this.threads.quote(message.roomId, replyTo),
      this.mentions.resolve(message.authorId, message.roomId, message.text),
    ]);
    if (state.closed) return;
    if (quote) message.replyTo = quote;
    if (mentioned.length > 0) message.mentions = mentioned;
    this.write(state, message, ref);
  }

  private write(state: PeerState, message: NewMessage, ref: Ref): void {
    const { roomId, clientMsgId } = message;
    const peer = state.peer;
    this.writer.write(message, (result) => {
      if (result instanceof Error) {
        state.error('internal', 'the message could not be stored', ref, roomId);
        return;
      }
      if (result.status === 'room_gone') {
        state.error('not_found', `no room ${roomId}`, ref, roomId);
        return;
      }
      if (result.status === 'duplicate') {
        if (result.message.roomId !== roomId) {
          // (author, clientMsgId) is unique across rooms: never ack a send with another room's message.
          state.error('conflict', `clientMsgId ${clientMsgId} was already used in room ${result.message.roomId}`, ref, roomId);
          return;
        }
        // Sent before (a retry after a reconnect). Published again rather than
        // answered directly: if the node that stored it died before publishing,
        // this is how the room hears of it. Cursors that have it drop it; the
        // sender gets its acknowledgement either way.
      }
      this.local.publishQuietly({
        kind: 'message',
        room: roomId,
        message: result.message,
        ...(ref === undefined ? {} : { replyTo: { connectionId: peer.connectionId, ref } }),
      });
      // Told once: a re-sent message mentioned them the first time.
      if (result.status === 'stored' && message.mentions) {
        const { id, seq, author } = result.message;
        this.notify(message.mentions, { type: 'mention', room: roomId, id, seq, author }).catch((err: unknown) =>
          this.background('mention', err),
        );
      }
    });
  }
}
