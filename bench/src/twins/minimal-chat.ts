import { ClientMessage } from '@chat/schema';

/**
 * The chat both twins speak: `join`, then `send` (and `react`/`unreact`),
 * broadcast to the room's members — the same envelopes as our server, validated with the same zod
 * schema (`@chat/schema`), the same text byte limit, and the sender's copy
 * carrying its `ref`, so each twin does the same parse/validate/stringify
 * work per message. Nothing is stored: ids and seqs are in-memory counters.
 */
export const MAX_MESSAGE_BYTES = 4096;

export type Decision =
  | { kind: 'join'; room: string; ref: string | number | undefined }
  | { kind: 'send'; room: string; text: string; clientMsgId: string; ref: string | number | undefined }
  | { kind: 'react'; room: string; id: number; emoji: string; added: boolean; ref: string | number | undefined }
  | { kind: 'error'; event: ErrorEvent };

export interface ErrorEvent {
  type: 'error';
  code: string;
  message: string;
  room?: string;
  ref?: string | number;
}

export interface MessageEvent {
  type: 'message';
  room: string;
  id: number;
  seq: number;
  author: string;
  text: string;
  ts: number;
  clientMsgId: string;
  ref?: string | number;
}

export interface ReactionEvent {
  type: 'reaction';
  room: string;
  id: number;
  emoji: string;
  user: string;
  added: boolean;
  count: number;
}

/** What a client message asks for, after validation (`raw` is already JSON-parsed). */
export function decide(raw: unknown, joined: (room: string) => boolean): Decision {
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: 'error', event: { type: 'error', code: 'invalid_message', message: issue?.message ?? 'invalid message' } };
  }
  const msg = parsed.data;
  switch (msg.type) {
    case 'join':
      return { kind: 'join', room: msg.room, ref: msg.ref };
    case 'send':
      if (!joined(msg.room)) return { kind: 'error', event: { type: 'error', code: 'forbidden', message: `join ${msg.room} first`, room: msg.room } };
      if (Buffer.byteLength(msg.text) > MAX_MESSAGE_BYTES) {
        return { kind: 'error', event: { type: 'error', code: 'too_large', message: 'too large', room: msg.room } };
      }
      return { kind: 'send', room: msg.room, text: msg.text, clientMsgId: msg.clientMsgId, ref: msg.ref };
    case 'react':
    case 'unreact':
      if (!joined(msg.room)) return { kind: 'error', event: { type: 'error', code: 'forbidden', message: `join ${msg.room} first`, room: msg.room } };
      return { kind: 'react', room: msg.room, id: msg.id, emoji: msg.emoji, added: msg.type === 'react', ref: msg.ref };
    default:
      return { kind: 'error', event: { type: 'error', code: 'invalid_message', message: `${msg.type} is not supported here` } };
  }
}

/** Message ids and per-room seqs, as our server assigns them (but in memory). */
export class Sequencer {
  private nextId = 1;
  private readonly seqs = new Map<string, number>();
  private readonly reactions = new Map<string, Set<string>>();

  message(room: string, author: string, text: string, clientMsgId: string): MessageEvent {
    const seq = (this.seqs.get(room) ?? 0) + 1;
    this.seqs.set(room, seq);
    return { type: 'message', room, id: this.nextId++, seq, author, text, ts: Date.now(), clientMsgId };
  }

  /** A reaction added or removed, one per user and emoji as ours (in memory); unchanged ones go to the asker only. */
  reaction(room: string, id: number, emoji: string, user: string, added: boolean): { event: ReactionEvent; changed: boolean } {
    const key = `${room}\u0000${id}\u0000${emoji}`;
    let users = this.reactions.get(key);
    if (!users) this.reactions.set(key, (users = new Set()));
    const had = users.has(user);
    if (added) users.add(user);
    else users.delete(user);
    return { event: { type: 'reaction', room, id, emoji, user, added, count: users.size }, changed: had !== added };
  }

  lastSeq(room: string): number {
    return this.seqs.get(room) ?? 0;
  }
}
