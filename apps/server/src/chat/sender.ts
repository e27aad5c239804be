import type { ClientMessage } from '@chat/schema';
import type { AppendResult, NewMessage } from '../storage/store.js';
import { MEMBER, authorize } from './access.js';
import type { Attachments } from './attachments.js';
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
export interface SenderParts {
  writer: MessageWriter;
  local: LocalRooms;
  gate: SendGate;
  threads: Threads;
  mentions: Mentions;
  attachments: Attachments;
  notify: Notify;
  background: (what: string, err: unknown) => void;
}

export class Sender {
  private readonly writer: MessageWriter;
  private readonly local: LocalRooms;
  private readonly gate: SendGate;
  private readonly threads: Threads;
  private readonly mentions: Mentions;
  private readonly attachments: Attachments;
  private readonly notify: Notify;
  private readonly background: (what: string, err: unknown) => void;

  constructor(parts: SenderParts) {
    ({
      writer: this.writer,
      local: this.local,
      gate: this.gate,
      threads: this.threads,
      mentions: this.mentions,
      attachments: this.attachments,
      notify: this.notify,
      background: this.background,
    } = parts);
  }

  send(state: PeerState, msg: Send): void | Promise<void> {
    authorize('send', MEMBER, msg.room, state.joined(msg.room));
    this.gate.checkText(msg.text);
    this.gate.take(state);
    const message: NewMessage = { roomId: msg.room, authorId: state.peer.user.id, text: msg.text, clientMsgId: msg.clientMsgId, ts: Date.now() };
    const files = msg.attachments !== undefined && msg.attachments.length > 0 ? msg.attachments : undefined;
    if (msg.replyTo === undefined && !msg.text.includes('@') && files === undefined) {
      this.write(state, message, msg.ref);
      return;
    }
    return this.sendWithExtras(state, message, { replyTo: msg.replyTo, files }, msg.ref);
  }

  private async sendWithExtras(
    state: PeerState,
    message: NewMessage,
    extras: { replyTo: number | undefined; files: readonly string[] | undefined },
    ref: Ref,
  ): Promise<void> {
    const { replyTo, files } = extras;
    // Files first: a refused one refuses the send before anything else is read or held.
    const claimed = files === undefined ? undefined : await this.attachments.claim(message.authorId, message, files);
    if (claimed?.resent) {
      // Stored before with these files (its ack was lost): the store finds it by clientMsgId and answers with it.
      this.write(state, message, ref);
      return;
    }
    const attachments = claimed?.files;
    let written = false;
    try {
      const [quote, mentioned] = await Promise.all([
        replyTo === undefined ? undefined : this.threads.quote(message.roomId, replyTo),
        this.mentions.resolve(message.authorId, message.roomId, message.text),
      ]);
      if (state.closed) return;
      if (quote) message.replyTo = quote;
      if (mentioned.length > 0) message.mentions = mentioned;
      if (attachments) message.attachments = attachments;
      this.write(state, message, ref);
      written = true;
    } finally {
      if (!written && attachments) this.attachments.release(attachments);
    }
  }

  private write(state: PeerState, message: NewMessage, ref: Ref): void {
    const { clientMsgId } = message;
    state.sending(clientMsgId, ref);
    this.writer.write(message, (result) => {
      // Local delivery below is synchronous: once it returns, this send is answered.
      try {
        this.written(state, message, ref, result);
      } finally {
        state.settled(clientMsgId);
      }
    });
  }

  private written(state: PeerState, message: NewMessage, ref: Ref, result: AppendResult | Error): void {
    const { roomId, clientMsgId } = message;
    const peer = state.peer;
    if (message.attachments) this.attachments.release(message.attachments);
    if (result instanceof Error) {
      state.error('internal', 'the message could not be stored', ref, roomId);
      return;
    }
    if (result.status === 'files_taken') {
      // Another send of the same upload was stored first (through another node): this one is not stored.
      state.error('conflict', 'a file of this message is on another message already', ref, roomId);
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
  }
}
