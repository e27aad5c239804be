import type { ChatMessage, Invitation, RoomKind, RoomRole, RoomSummary, ServerMessage, User } from '@chat/schema';
import type { AdminData } from './admin-view.js';
import type { SearchState } from './search-view.js';
import { MENTION_PATTERN } from '@chat/schema';

/** One room as the client knows it. */
export interface RoomView {
  id: string;
  /** `direct`: a conversation, shown by its members' names. */
  kind: RoomKind;
  /** The person's role here, when a member. */
  role: RoomRole | null;
  /** A direct conversation's members. */
  people: string[];
  /** Members' roles, as `joined` and `role` events tell them. */
  roles: Map<string, RoomRole>;
  title: string;
  topic: string;
  unread: number;
  /** Unread messages that mention the person (the server counts them). */
  mentions: number;
  /** The room's pinned messages, once asked for (`pins`). */
  pins: ChatMessage[] | undefined;
  joined: boolean;
  /** A join was sent and its answer is awaited. */
  joining: boolean;
  /** Confirmed messages by seq. */
  messages: Map<number, ChatMessage>;
  /** Highest seq seen: the `since` of the next join. */
  lastSeq: number;
  /** Whether older history may exist above the oldest loaded message. */
  hasOlder: boolean;
  members: Map<string, boolean>;
  /** user → when their typing notice expires (ms). */
  typing: Map<string, number>;
}

export interface PendingMessage {
  room: string;
  text: string;
  clientMsgId: string;
}

export interface AppState {
  user: User | undefined;
  rooms: Map<string, RoomView>;
  current: string | undefined;
  pending: PendingMessage[];
  status: 'connecting' | 'online' | 'offline';
  notice: string | undefined;
  /** Invitations waiting for the person's answer. */
  invitations: Invitation[];
  /** The last invite link made here, to copy. */
  inviteLink: string | undefined;
  /** The open thread: a message's replies. */
  thread: { room: string; id: number; messages: ChatMessage[] } | undefined;
  /** The admin console is shown instead of the chat (admins only). */
  adminOpen: boolean;
  admin: AdminData;
  /** The last search and its results, until cleared. */
  search: SearchState | undefined;
  /** A message to bring into view once it is loaded (a search result that was opened). */
  focus: { room: string; seq: number } | undefined;
}

export const initialState = (): AppState => ({
  user: undefined,
  rooms: new Map(),
  current: undefined,
  pending: [],
  status: 'connecting',
  notice: undefined,
  invitations: [],
  inviteLink: undefined,
  thread: undefined,
  adminOpen: false,
  admin: { stats: undefined, users: [], rooms: [], audit: [], members: undefined },
  search: undefined,
  focus: undefined,
});

export function emptyRoom(id: string, title = id): RoomView {
  return {
    id,
    kind: 'room',
    role: null,
    people: [],
    roles: new Map(),
    title,
    topic: '',
    unread: 0,
    mentions: 0,
    pins: undefined,
    joined: false,
    joining: false,
    messages: new Map(),
    lastSeq: 0,
    hasOlder: true,
    members: new Map(),
    typing: new Map(),
  };
}

/** Rooms from `GET /api/rooms`, keeping what is already loaded. */
export function mergeRoomList(state: AppState, list: RoomSummary[]): void {
  const seen = new Set<string>();
  for (const summary of list) {
    seen.add(summary.id);
    const room = state.rooms.get(summary.id) ?? emptyRoom(summary.id, summary.title);
    room.title = summary.title;
    room.topic = summary.topic;
    room.kind = summary.kind ?? 'room';
    room.role = summary.role ?? null;
    room.people = summary.members ?? [];
    room.unread = summary.id === state.current ? 0 : summary.unread;
    room.mentions = summary.id === state.current ? 0 : (summary.mentions ?? 0);
    state.rooms.set(summary.id, room);
  }
  for (const id of [...state.rooms.keys()]) if (!seen.has(id) && !state.rooms.get(id)!.joined) state.rooms.delete(id);
}

function addMessage(room: RoomView, message: ChatMessage): void {
  room.messages.set(message.seq, message);
  if (message.seq > room.lastSeq) room.lastSeq = message.seq;
}

/** Every loaded copy of a message (the room's, the open thread's, the pinned list's), changed by `change`. */
function updateMessage(state: AppState, roomId: string, id: number, change: (m: ChatMessage) => ChatMessage): void {
  const room = state.rooms.get(roomId);
  if (room) {
    for (const [seq, m] of room.messages) if (m.id === id) room.messages.set(seq, change(m));
    if (room.pins) room.pins = room.pins.map((m) => (m.id === id ? change(m) : m));
  }
  if (state.thread?.room === roomId) state.thread.messages = state.thread.messages.map((m) => (m.id === id ? change(m) : m));
}

/** A message's reactions after a `reaction` event: the count is the server's, the names follow the change. */
export function withReaction(m: ChatMessage, emoji: string, user: string, added: boolean, count: number): ChatMessage {
  const reactions = (m.reactions ?? []).map((r) => ({ ...r, users: [...r.users] }));
  let entry = reactions.find((r) => r.emoji === emoji);
  if (!entry && added) reactions.push((entry = { emoji, count, users: [] }));
  if (entry) {
    entry.count = count;
    entry.users = entry.users.filter((u) => u !== user);
    if (added) entry.users.push(user);
  }
  const kept = reactions.filter((r) => r.count > 0);
  const { reactions: _old, ...rest } = m;
  return kept.length > 0 ? { ...rest, reactions: kept } : rest;
}

/** Errors after which the same send may succeed later (the client retries it). */
export const isRetryable = (code: string): boolean => code === 'rate_limited' || code === 'internal';

/** Human words for the server's error codes. */
export function describeError(code: string, message: string): string {
  switch (code) {
    case 'rate_limited':
      return 'You are sending too fast — wait a moment.';
    case 'too_large':
      return `That message is too long (${message}).`;
    case 'forbidden':
      return `Not allowed: ${message}`;
    case 'not_found':
      return `Not found: ${message}`;
    default:
      return message;
  }
}

/**
 * Applies one server message to the state. Pure apart from mutating `state`:
 * no DOM, no socket — the view re-renders from the result.
 */
export function applyEvent(state: AppState, event: ServerMessage, now: number): void {
  switch (event.type) {
    case 'joined': {
      const room = state.rooms.get(event.room) ?? emptyRoom(event.room, event.title);
      room.title = event.title;
      room.topic = event.topic;
      room.joined = true;
      room.joining = false;
      if (event.truncated) room.messages.clear();
      for (const m of event.history) addMessage(room, m);
      room.lastSeq = Math.max(room.lastSeq, event.lastSeq);
      if (event.history.length < 50 && !event.truncated && room.messages.size === event.history.length) room.hasOlder = false;
      room.members = new Map(event.members.map((m) => [m.username, m.online]));
      room.roles = new Map(event.members.flatMap((m) => (m.role ? [[m.username, m.role] as const] : [])));
      room.role = room.roles.get(state.user?.username ?? '') ?? room.role;
      state.rooms.set(room.id, room);
      return;
    }
    case 'role': {
      const room = state.rooms.get(event.room);
      if (!room) return;
      room.roles.set(event.user, event.role);
      if (event.user === state.user?.username) room.role = event.role;
      return;
    }
    case 'room_added': {
      const room = state.rooms.get(event.room.id) ?? emptyRoom(event.room.id, event.room.title);
      room.kind = event.room.kind ?? 'room';
      room.people = event.room.members ?? [];
      room.role = event.room.role ?? null;
      state.rooms.set(room.id, room);
      return;
    }
    case 'invitation': {
      state.invitations = [event.invitation, ...state.invitations.filter((i) => i.id !== event.invitation.id)];
      return;
    }
    case 'invitation_removed': {
      state.invitations = state.invitations.filter((i) => i.id !== event.id);
      return;
    }
    case 'message': {
      const room = state.rooms.get(event.room);
      if (!room) return;
      const { type: _type, room: _room, ref: _ref, ...message } = event;
      const fresh = !room.messages.has(message.seq);
      addMessage(room, message);
      room.typing.delete(message.author);
      if (fresh && message.replyTo) {
        const parent = message.replyTo.id;
        updateMessage(state, room.id, parent, (m) => ({ ...m, replies: (m.replies ?? 0) + 1 }));
        const thread = state.thread;
        if (thread?.room === room.id && thread.id === parent && !thread.messages.some((m) => m.id === message.id)) {
          thread.messages = [...thread.messages, message];
        }
      }
      if (message.author === state.user?.username) {
        state.pending = state.pending.filter((p) => p.clientMsgId !== message.clientMsgId);
      } else if (room.id !== state.current) {
        room.unread++;
      }
      return;
    }
    case 'message_updated': {
      const room = state.rooms.get(event.room);
      if (!room) return;
      const { type: _type, room: _room, ref: _ref, ...message } = event;
      updateMessage(state, room.id, message.id, () => message);
      // A pin or an unpin: the pinned list follows (latest pin first).
      if (room.pins) {
        const others = room.pins.filter((m) => m.id !== message.id);
        room.pins = message.pinned ? [message, ...others] : others;
      }
      return;
    }
    case 'reaction': {
      updateMessage(state, event.room, event.id, (m) => withReaction(m, event.emoji, event.user, event.added, event.count));
      return;
    }
    case 'pins': {
      const room = state.rooms.get(event.room);
      if (room) room.pins = event.messages;
      return;
    }
    case 'thread': {
      state.thread = { room: event.room, id: event.id, messages: event.messages };
      return;
    }
    case 'mention': {
      const room = state.rooms.get(event.room);
      if (room && event.room !== state.current) room.mentions++;
      return;
    }
    case 'history': {
      const room = state.rooms.get(event.room);
      if (!room) return;
      for (const m of event.messages) addMessage(room, m);
      if (event.messages.length === 0) room.hasOlder = false;
      return;
    }
    case 'presence': {
      state.rooms.get(event.room)?.members.set(event.user, event.state === 'online');
      return;
    }
    case 'presence_batch': {
      const members = state.rooms.get(event.room)?.members;
      for (const user of event.online) members?.set(user, true);
      for (const user of event.offline) members?.set(user, false);
      return;
    }
    case 'typing': {
      state.rooms.get(event.room)?.typing.set(event.user, now + 3000);
      return;
    }
    case 'room': {
      const room = state.rooms.get(event.room);
      if (event.event === 'updated') {
        if (room) {
          room.title = event.title ?? room.title;
          room.topic = event.topic ?? room.topic;
        }
        return;
      }
      const what = event.event === 'deleted' ? 'was deleted' : event.event === 'kicked' ? 'removed you' : 'banned you';
      state.notice = `#${event.room} ${what}.`;
      if (room) room.joined = false;
      if (event.event === 'deleted') state.rooms.delete(event.room);
      state.pending = state.pending.filter((p) => p.room !== event.room);
      if (state.current === event.room) state.current = undefined;
      return;
    }
    case 'error': {
      // An error about a send (its ref is the clientMsgId). Rate limits pass: the
      // socket sends it again shortly. Anything else means it will never be stored.
      const refused = state.pending.find((p) => p.clientMsgId === event.ref);
      if (refused && isRetryable(event.code)) {
        state.notice = describeError(event.code, event.message);
        return;
      }
      if (refused) state.pending = state.pending.filter((p) => p !== refused);
      state.notice = describeError(event.code, event.message) + (refused ? ' The message was not sent.' : '');
      return;
    }
    default:
      return;
  }
}

/** How a room is named in the list: `#id`, or a conversation's other members. */
export function roomLabel(room: RoomView, me: string | undefined): string {
  if (room.kind !== 'direct') return `#${room.id}`;
  const others = room.people.filter((p) => p !== me);
  return others.length > 0 ? others.join(', ') : 'conversation';
}

/** Whether the person may pin messages here (a moderator, or anyone in a direct conversation). */
export const canPin = (room: RoomView): boolean => room.kind === 'direct' || room.role === 'owner' || room.role === 'moderator';


/** Whether a mentioned name (without its `@`) is `me`, or everyone (`room`). */
export function isMe(name: string, me: string | undefined): boolean {
  const n = name.toLowerCase();
  return n === 'room' || (me !== undefined && (n === me.toLowerCase() || n.replace(/[.-]+$/, '') === me.toLowerCase()));
}

/** Whether the text mentions `me` by name, or everyone (`@room`). */
export const mentionsMe = (text: string, me: string | undefined): boolean => [...text.matchAll(MENTION_PATTERN)].some((m) => isMe(m[1]!, me));

/** Whether the person may moderate the room (owner or moderator of a room that is not a conversation). */
export const canModerate = (room: RoomView): boolean => room.kind !== 'direct' && (room.role === 'owner' || room.role === 'moderator');

/** The messages of a room in order, oldest first. */
export function orderedMessages(room: RoomView): ChatMessage[] {
  return [...room.messages.values()].sort((a, b) => a.seq - b.seq);
}

/** Who is typing in a room right now (not counting the user). */
export function typingUsers(room: RoomView, me: string | undefined, now: number): string[] {
  return [...room.typing.entries()].filter(([user, until]) => user !== me && until > now).map(([user]) => user);
}
