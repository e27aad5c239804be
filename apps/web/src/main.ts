import './zod-csp.js';
import type { ClientMessage, ServerMessage, User } from '@chat/schema';
import { ApiError, api } from './api.js';
import { ChatSocket } from './chat-socket.js';
import { newClientMsgId } from './client-msg-id.js';
import { applyEvent, emptyRoom, initialState, isRetryable, mergeRoomList } from './state.js';
import { View, type ViewActions } from './view.js';

/** Composes the client: state, REST, the socket and the view. */
const state = initialState();
let socket: ChatSocket | undefined;
let lastTyping = 0;
let loadingOlder = false;

const render = () => view.render(state, Date.now());
const notify = (text: string | undefined) => {
  state.notice = text;
  render();
};
const fail = (err: unknown) => notify(err instanceof ApiError ? err.message : 'Something went wrong. Try again.');

/** A join asks for presence in batches: a room filling up sends one notice per turn, not one per arrival. */
const join = (room: string, since: number | undefined): ClientMessage => ({ type: 'join', room, presence: 'batched', ...(since === undefined ? {} : { since }) });
const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

async function refreshInvitations(): Promise<void> {
  try {
    state.invitations = await api.invitations();
    render();
  } catch {
    // Shown again at the next refresh; rooms carry on without it.
  }
}

/** An invite link (`/?invite=TOKEN`) opened before or after signing in: used once signed in, then dropped from the address. */
function redeemInviteFromAddress(): void {
  const token = new URLSearchParams(location.search).get('invite');
  if (!token) return;
  history.replaceState(null, '', location.pathname);
  api
    .redeemLink(token)
    .then((room) => refreshRooms().then(() => actions.selectRoom(room)))
    .catch(fail);
}

async function refreshRooms(): Promise<void> {
  try {
    const list = await api.rooms();
    mergeRoomList(state, list);
    // Rooms the person belongs to are followed live (unread counts, presence) without opening them.
    for (const summary of list) {
      const room = state.rooms.get(summary.id);
      if (summary.joined && room && !room.joined && !room.joining && socket?.isOpen) {
        room.joining = true;
        socket.send(join(summary.id, room.lastSeq > 0 ? room.lastSeq : undefined));
      }
    }
    render();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signedOut();
  }
}

function signedIn(user: User): void {
  state.user = user;
  state.notice = undefined;
  socket?.stop();
  socket = new ChatSocket(wsUrl(), {
    onStatus(status) {
      state.status = status;
      render();
      // Repeated failures may mean the session ended: find out, and ask to sign in again.
      if (status === 'offline') void api.session().then((user) => user === null && signedOut(), () => {});
    },
    onOpen(send) {
      // Rejoin every room with `since`: the server replays exactly what was missed.
      for (const room of state.rooms.values()) {
        room.joining = false; // a join sent on the old connection will not be answered
        if (room.joined) send(join(room.id, room.lastSeq));
      }
      void refreshRooms();
    },
    onEvent(event: ServerMessage) {
      if (event.type === 'message' && event.author === user.username) socket?.acknowledge(event.clientMsgId);
      if (event.type === 'error' && typeof event.ref === 'string' && socket?.outbox.has(event.ref)) {
        // Retry what may pass later (with jitter); give up on what never will.
        if (isRetryable(event.code)) socket.retry(event.ref, 1000 + Math.random() * 1000);
        else socket.acknowledge(event.ref);
      }
      if (event.type === 'room' && event.event !== 'updated') {
        for (const entry of [...socket!.outbox.values()]) if (entry.room === event.room) socket!.acknowledge(entry.clientMsgId);
      }
      applyEvent(state, event, Date.now());
      // Someone else's doing made a room ours, or answered an invitation on another tab: the list follows.
      if (event.type === 'room_added' || (event.type === 'invitation_removed' && event.reason === 'accepted')) void refreshRooms();
      if (event.type === 'history') loadingOlder = false;
      if (event.type === 'message' && event.room === state.current) markRead(event.room);
      render();
    },
  });
  socket.start();
  void refreshRooms();
  void refreshInvitations();
  redeemInviteFromAddress();
  render();
}

function signedOut(): void {
  socket?.stop();
  socket = undefined;
  Object.assign(state, initialState(), { status: 'offline' });
  render();
}

// ---- the admin console -------------------------------------------------------------

let adminQuery = '';
let lastStats: { at: number; stored: number } | undefined;
let statsTimer: ReturnType<typeof setInterval> | undefined;

async function refreshStats(): Promise<void> {
  const s = await api.adminStats();
  const now = Date.now();
  // Messages per second from two snapshots of the counter that /metrics exposes too.
  const perSecond = lastStats && now > lastStats.at ? ((s.messagesStored - lastStats.stored) * 1000) / (now - lastStats.at) : undefined;
  lastStats = { at: now, stored: s.messagesStored };
  state.admin.stats = { connections: s.connections, messagesPerSecond: perSecond, uptimeSeconds: s.uptimeSeconds };
  render();
}

async function refreshAdmin(): Promise<void> {
  try {
    const shown = state.admin.members?.room;
    const [users, rooms, audit, people] = await Promise.all([
      api.adminUsers(adminQuery),
      api.adminRooms(),
      api.adminAudit(),
      shown ? api.adminMembers(shown).catch(() => undefined) : undefined,
    ]);
    Object.assign(state.admin, { users, rooms, audit, members: shown && people ? { room: shown, people } : undefined });
    await refreshStats();
  } catch (err) {
    fail(err);
  }
}

/** An admin call, then the console again (its lists and the audit log changed). */
const administer = (call: Promise<unknown>) => void call.then(refreshAdmin, fail);

function markRead(roomId: string): void {
  const room = state.rooms.get(roomId);
  if (room && room.lastSeq > 0) socket?.send({ type: 'read', room: roomId, seq: room.lastSeq });
}

/** One page of a search; a later search replaces an earlier one still on its way. */
function runSearch(q: string, before?: number): void {
  api.search(q, before).then(
    (page) => {
      if (state.search?.q !== q) return;
      state.search.results = before ? [...state.search.results, ...page.results] : page.results;
      state.search.nextBefore = page.nextBefore;
      state.search.busy = false;
      render();
    },
    (err: unknown) => {
      if (state.search?.q !== q) return;
      state.search.busy = false;
      state.search.error = err instanceof ApiError ? err.message : 'The search failed; try again.';
      render();
    },
  );
}

const auth = (call: Promise<{ user: User }>) =>
  call.then(({ user }) => signedIn(user)).catch(fail);

const actions: ViewActions = {
  login: (username, password) => auth(api.login(username, password)),
  register: (username, password) => auth(api.register(username, password)),
  guest: (username) => auth(api.guest(username)),
  logout: () => {
    void api.logout().finally(signedOut);
  },
  selectRoom(id) {
    const room = state.rooms.get(id) ?? emptyRoom(id);
    state.rooms.set(id, room);
    state.current = id;
    state.inviteLink = undefined;
    if (state.thread?.room !== id) state.thread = undefined;
    room.unread = 0;
    room.mentions = 0;
    state.notice = undefined;
    if (!room.joined) socket?.send(join(id, room.lastSeq > 0 ? room.lastSeq : undefined));
    else markRead(id);
    render();
    view.focusComposer();
  },
  createRoom(id, title, isPrivate) {
    api
      .createRoom(id, title || id, isPrivate)
      .then(() => refreshRooms())
      .then(() => actions.selectRoom(id))
      .catch(fail);
  },
  openConversation(usernames) {
    api
      .openConversation(usernames)
      .then((room) => refreshRooms().then(() => actions.selectRoom(room.id)))
      .catch(fail);
  },
  answerInvitation(id, accept) {
    const invitation = state.invitations.find((i) => i.id === id);
    api
      .answerInvitation(id, accept)
      .then(() => {
        state.invitations = state.invitations.filter((i) => i.id !== id);
        if (accept && invitation) return refreshRooms().then(() => actions.selectRoom(invitation.room));
        render();
      })
      .catch(fail);
  },
  invite(room, username) {
    api
      .invite(room, username)
      .then(() => notify(`Invited ${username} to #${room}.`))
      .catch(fail);
  },
  createInviteLink(room) {
    api
      .inviteLink(room)
      .then((token) => {
        state.inviteLink = `${location.origin}/?invite=${token}`;
        render();
      })
      .catch(fail);
  },
  editMessage: (room, id, text) => socket?.send({ type: 'edit', room, id, text }),
  deleteMessage: (room, id) => socket?.send({ type: 'delete', room, id }),
  kick: (room, username) => void api.moderate(room, 'kick', username).catch(fail),
  ban: (room, username) => void api.moderate(room, 'bans', username).catch(fail),
  transfer: (room, username) => void api.moderate(room, 'owner', username).catch(fail),
  setRole: (room, username, role) => void api.setRole(room, username, role).catch(fail),
  leaveRoom(id) {
    socket?.send({ type: 'leave', room: id });
    const room = state.rooms.get(id);
    if (room) room.joined = false;
    state.current = undefined;
    render();
  },
  send(text, replyTo, attachments) {
    const room = state.current;
    if (!room || !socket) return;
    const clientMsgId = newClientMsgId();
    state.pending.push({ room, text, clientMsgId });
    // Queued even while offline: the outbox goes out (same clientMsgId) once reconnected.
    socket.sendChat({ room, text, clientMsgId, replyTo, attachments });
    render();
  },
  react: (room, id, emoji, add) => socket?.send({ type: add ? 'react' : 'unreact', room, id, emoji }),
  pin: (room, id, pinned) => socket?.send({ type: 'pin', room, id, pinned }),
  showPins: (room) => socket?.send({ type: 'pins', room }),
  openThread: (room, id) => socket?.send({ type: 'thread', room, id }),
  toggleAdmin() {
    state.adminOpen = !state.adminOpen;
    clearInterval(statsTimer);
    if (state.adminOpen) {
      void refreshAdmin();
      statsTimer = setInterval(() => void refreshStats().catch(() => {}), 2000);
    }
    render();
  },
  searchUsers(query) {
    adminQuery = query;
    void refreshAdmin();
  },
  setActive: (username, active) => administer(api.adminSetActive(username, active)),
  setAdmin: (username, admin) => administer(api.adminSetRole(username, admin)),
  adminCreateRoom: (id, title) => administer(api.adminCreateRoom(id, title || id)),
  setArchived: (room, archived) => administer(api.adminUpdateRoom(room, { archived })),
  deleteRoom: (room) => administer(api.adminDeleteRoom(room)),
  editRoom: (room, title, topic) => administer(api.adminEditRoom(room, { title, topic })),
  showMembers(room) {
    state.admin.members = { room, people: [] };
    void refreshAdmin();
  },
  moderate: (room, what, username) => administer(api.adminModerate(room, what, username)),
  resetPassword: (username, password) =>
    administer(api.adminResetPassword(username, password).then(() => notify(`A new password is set for ${username}; their sessions ended.`))),
  closeThread() {
    state.thread = undefined;
    render();
  },
  typing() {
    const now = Date.now();
    if (!state.current || now - lastTyping < 2000) return;
    lastTyping = now;
    socket?.send({ type: 'typing', room: state.current });
  },
  search(q) {
    state.search = { q, results: [], nextBefore: null, busy: true, error: undefined };
    render();
    runSearch(q);
  },
  searchMore() {
    if (state.search && state.search.nextBefore !== null && !state.search.busy) {
      state.search.busy = true;
      render();
      runSearch(state.search.q, state.search.nextBefore);
    }
  },
  clearSearch() {
    state.search = undefined;
    render();
  },
  openResult(roomId, seq) {
    state.focus = { room: roomId, seq };
    const room = state.rooms.get(roomId);
    // Already loaded: only brought into view. Otherwise the history around it (25 messages either side).
    if (room?.messages.has(seq) && state.current === roomId) {
      render();
      return;
    }
    if (state.current !== roomId) actions.selectRoom(roomId);
    socket?.send({ type: 'history', room: roomId, before: seq + 26, limit: 50 });
  },
  loadGap(roomId, beforeSeq) {
    socket?.send({ type: 'history', room: roomId, before: beforeSeq, limit: 50 });
  },
  loadOlder() {
    const room = state.current ? state.rooms.get(state.current) : undefined;
    if (!room?.hasOlder || loadingOlder || room.messages.size === 0) return;
    loadingOlder = true;
    const oldest = Math.min(...room.messages.keys());
    socket?.send({ type: 'history', room: room.id, before: oldest, limit: 50 });
  },
};
const view = new View(document.getElementById('app')!, actions);

// New rooms appear without a reload: the list is refreshed when the tab comes back and now and then.
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && state.user && void refreshRooms());
setInterval(() => state.user && document.visibilityState === 'visible' && void refreshRooms(), 30_000);

// Typing notices expire on their own: re-render now and then while any are shown.
setInterval(() => {
  const room = state.current ? state.rooms.get(state.current) : undefined;
  if (room && room.typing.size > 0) render();
}, 1000);

api.session().then(
  (user) => (user ? signedIn(user) : signedOut()),
  () => {
    state.status = 'offline';
    render();
  },
);
// For end-to-end tests: drop the connection the way a network failure would.
(window as unknown as { chatDebug: object }).chatDebug = { drop: () => socket?.drop() };
