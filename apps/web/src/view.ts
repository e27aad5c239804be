import type { ChatMessage } from '@chat/schema';
import { el, invitationItems, memberItem, type PeopleActions } from './people-view.js';
import { canModerate, orderedMessages, roomLabel, typingUsers, type AppState } from './state.js';

/** What the person can do; `main.ts` wires these to the API and the socket. */
export interface ViewActions extends PeopleActions {
  login(username: string, password: string): void;
  register(username: string, password: string): void;
  guest(username: string): void;
  logout(): void;
  selectRoom(id: string): void;
  createRoom(id: string, title: string, isPrivate: boolean): void;
  /** A 1:1 (one name) or a group conversation. */
  openConversation(usernames: string[]): void;
  invite(room: string, username: string): void;
  editMessage(room: string, id: number, text: string): void;
  deleteMessage(room: string, id: number): void;
  createInviteLink(room: string): void;
  leaveRoom(id: string): void;
  send(text: string): void;
  typing(): void;
  loadOlder(): void;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * Renders the state into the page (TodoMVC-style View: `render` + bound
 * actions). All chat text is set with `textContent`/`append(string)`, so a
 * message containing HTML shows as the literal characters.
 */
export class View {
  private readonly status = el('span', { class: 'status', role: 'status' });
  private readonly me = el('span', { class: 'me' });
  private readonly logoutButton = el('button', { type: 'button', class: 'secondary' }, 'Log out');
  private readonly notice = el('div', { class: 'notice', role: 'alert' });
  private readonly signIn: HTMLElement;
  private readonly chat: HTMLElement;
  private readonly roomList = el('ul', { class: 'room-list' });
  private readonly directList = el('ul', { class: 'room-list', 'aria-label': 'Direct messages' });
  private readonly invitationList = el('ul', { class: 'invitations', 'aria-label': 'Invitations' });
  private readonly invitationSection: HTMLElement;
  private readonly roomTools: HTMLElement;
  private readonly inviteLink = el('p', { class: 'invite-link' });
  private readonly roomSection: HTMLElement;
  private readonly roomTitle = el('h2', { class: 'room-title' });
  private readonly roomTopic = el('p', { class: 'topic' });
  private readonly leaveButton = el('button', { type: 'button', class: 'secondary' }, 'Leave');
  private readonly members = el('ul', { class: 'members', 'aria-label': 'Members' });
  private readonly messages = el('ol', { class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' });
  private readonly typingLine = el('p', { class: 'typing', 'aria-live': 'polite' });
  private readonly composer = el('textarea', { id: 'composer-text', rows: '2', placeholder: 'Write a message — Enter sends, Shift+Enter for a new line' });
  private renderedRoom: string | undefined;
  /** The message the composer is editing (its Send then saves the edit). */
  private editing: { room: string; id: number } | undefined;
  private readonly editingLine = el('p', { class: 'editing', 'aria-live': 'polite' });

  constructor(
    root: HTMLElement,
    private readonly actions: ViewActions,
  ) {
    const username = el('input', { name: 'username', autocomplete: 'username', required: '', pattern: '[a-zA-Z0-9_.\\-]{2,32}' });
    const password = el('input', { name: 'password', type: 'password', autocomplete: 'current-password' });
    const form = el(
      'form',
      { class: 'card', 'aria-label': 'Sign in' },
      el('h2', {}, 'Sign in'),
      el('label', {}, 'Username', username),
      el('label', {}, 'Password', password),
      el(
        'div',
        { class: 'row' },
        el('button', { type: 'submit' }, 'Log in'),
        el('button', { type: 'button', 'data-action': 'register', class: 'secondary' }, 'Register'),
        el('button', { type: 'button', 'data-action': 'guest', class: 'secondary' }, 'Continue as guest'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      actions.login(username.value, password.value);
    });
    form.addEventListener('click', (e) => {
      const action = (e.target as HTMLElement).dataset.action;
      if (action === 'register') actions.register(username.value, password.value);
      if (action === 'guest') actions.guest(username.value);
    });
    this.signIn = el('section', { class: 'signin' }, form);

    const roomId = el('input', { name: 'room-id', required: '', pattern: '[a-z0-9][a-z0-9\\-]{0,63}' });
    const roomTitle = el('input', { name: 'room-title', required: '' });
    const roomPrivate = el('input', { name: 'room-private', type: 'checkbox' });
    const newRoom = el(
      'form',
      { class: 'new-room', 'aria-label': 'New room' },
      el('label', {}, 'Room id', roomId),
      el('label', {}, 'Title', roomTitle),
      el('label', { class: 'inline' }, roomPrivate, 'Private (by invitation)'),
      el('button', { type: 'submit' }, 'Create room'),
    );
    newRoom.addEventListener('submit', (e) => {
      e.preventDefault();
      actions.createRoom(roomId.value.trim(), roomTitle.value.trim(), roomPrivate.checked);
      newRoom.reset();
    });
    const peopleInput = el('input', { name: 'dm-usernames', required: '', placeholder: 'bob, carol' });
    const newDirect = el(
      'form',
      { class: 'new-direct', 'aria-label': 'New direct message' },
      el('label', {}, 'People to talk to (comma-separated)', peopleInput),
      el('button', { type: 'submit' }, 'Start conversation'),
    );
    newDirect.addEventListener('submit', (e) => {
      e.preventDefault();
      const names = peopleInput.value.split(',').map((n) => n.trim()).filter((n) => n !== '');
      if (names.length > 0) actions.openConversation(names);
      newDirect.reset();
    });
    for (const list of [this.roomList, this.directList]) {
      list.addEventListener('click', (e) => {
        const button = (e.target as HTMLElement).closest('button[data-room]') as HTMLButtonElement | null;
        if (button) actions.selectRoom(button.dataset.room!);
      });
    }
    this.invitationSection = el('section', { class: 'invitation-box', 'aria-label': 'Invitations' }, el('h2', {}, 'Invitations'), this.invitationList);
    const inviteName = el('input', { name: 'invite-username', required: '', pattern: '[a-zA-Z0-9_.\\-]{2,32}' });
    const inviteForm = el(
      'form',
      { class: 'invite', 'aria-label': 'Invite someone' },
      el('label', {}, 'Invite by name', inviteName),
      el('button', { type: 'submit' }, 'Invite'),
    );
    inviteForm.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.renderedRoom) actions.invite(this.renderedRoom, inviteName.value.trim());
      inviteForm.reset();
    });
    const linkButton = el('button', { type: 'button', class: 'secondary' }, 'Create invite link');
    linkButton.addEventListener('click', () => this.renderedRoom && actions.createInviteLink(this.renderedRoom));
    this.roomTools = el('div', { class: 'room-tools' }, inviteForm, linkButton, this.inviteLink);

    const composerForm = el(
      'form',
      { class: 'composer', 'aria-label': 'Send a message' },
      el('label', { for: 'composer-text', class: 'visually-hidden' }, 'Message'),
      this.composer,
      el('button', { type: 'submit' }, 'Send'),
    );
    const submit = () => {
      const text = this.composer.value;
      if (text.trim() === '') return;
      if (this.editing) actions.editMessage(this.editing.room, this.editing.id, text);
      else actions.send(text);
      this.stopEditing();
      this.composer.value = '';
    };
    this.messages.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest('button[data-message-action]') as HTMLButtonElement | null;
      if (!button || !this.renderedRoom) return;
      const id = Number(button.dataset.id);
      if (button.dataset.messageAction === 'delete') actions.deleteMessage(this.renderedRoom, id);
      else this.startEditing(this.renderedRoom, id, button.dataset.text ?? '');
    });
    composerForm.addEventListener('submit', (e) => {
      e.preventDefault();
      submit();
    });
    this.composer.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter (or composing an IME character) inserts a line break.
      if (e.key === 'Escape' && this.editing) {
        this.stopEditing();
        this.composer.value = '';
      }
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    });
    this.composer.addEventListener('input', () => actions.typing());
    this.messages.addEventListener('scroll', () => {
      if (this.messages.scrollTop < 40) actions.loadOlder();
    });
    this.leaveButton.addEventListener('click', () => this.renderedRoom && actions.leaveRoom(this.renderedRoom));
    this.logoutButton.addEventListener('click', () => actions.logout());

    this.roomSection = el(
      'section',
      { class: 'room', 'aria-labelledby': 'room-title' },
      el('header', { class: 'room-header' }, el('div', {}, this.roomTitle, this.roomTopic), this.leaveButton),
      this.roomTools,
      this.members,
      this.messages,
      this.typingLine,
      this.editingLine,
      composerForm,
    );
    this.roomTitle.id = 'room-title';
    this.chat = el(
      'main',
      { class: 'chat' },
      el(
        'nav',
        { 'aria-label': 'Rooms' },
        this.invitationSection,
        el('h2', {}, 'Rooms'),
        this.roomList,
        newRoom,
        el('h2', {}, 'Direct messages'),
        this.directList,
        newDirect,
      ),
      this.roomSection,
    );
    root.append(
      el('header', { class: 'topbar' }, el('h1', {}, 'Chat'), this.status, this.me, this.logoutButton),
      this.notice,
      this.signIn,
      this.chat,
    );
  }

  render(state: AppState, now: number): void {
    const signedIn = state.user !== undefined;
    this.signIn.hidden = signedIn;
    this.chat.hidden = !signedIn;
    this.logoutButton.hidden = !signedIn;
    this.me.textContent = state.user ? `${state.user.username}${state.user.guest ? ' (guest)' : ''}` : '';
    this.status.textContent = !signedIn ? '' : state.status === 'online' ? 'Connected' : state.status === 'connecting' ? 'Connecting…' : 'Offline — reconnecting…';
    this.status.dataset.state = state.status;
    this.notice.textContent = state.notice ?? '';
    this.notice.hidden = state.notice === undefined;
    if (!signedIn) return;

    this.invitationSection.hidden = state.invitations.length === 0;
    this.invitationList.replaceChildren(...invitationItems(state.invitations, this.actions));
    const me = state.user?.username;
    const listed = (direct: boolean) =>
      [...state.rooms.values()]
        .filter((room) => (room.kind === 'direct') === direct)
        .sort((a, b) => roomLabel(a, me).localeCompare(roomLabel(b, me)))
        .map((room) => {
          const label = el('span', { class: 'room-name' }, roomLabel(room, me));
          const button = el('button', { type: 'button', 'data-room': room.id }, label);
          if (room.unread > 0) button.append(el('span', { class: 'badge', 'aria-label': `${room.unread} unread` }, String(room.unread)));
          if (room.id === state.current) button.setAttribute('aria-current', 'true');
          return el('li', {}, button);
        });
    this.roomList.replaceChildren(...listed(false));
    this.directList.replaceChildren(...listed(true));

    const room = state.current ? state.rooms.get(state.current) : undefined;
    this.roomSection.hidden = room === undefined;
    if (!room) {
      this.renderedRoom = undefined;
      return;
    }
    this.roomTitle.textContent = room.kind === 'direct' ? roomLabel(room, me) : room.title;
    this.roomTopic.textContent = room.topic;
    this.roomTools.hidden = !canModerate(room);
    this.inviteLink.textContent = state.inviteLink ?? '';
    this.members.replaceChildren(
      ...[...room.members.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, online]) => memberItem(room, name, online, me, this.actions)),
    );
    const typing = typingUsers(room, state.user?.username, now);
    this.typingLine.textContent = typing.length === 0 ? '' : `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`;
    this.renderMessages(state, room.id, orderedMessages(room));
  }

  private renderMessages(state: AppState, roomId: string, messages: ChatMessage[]): void {
    const list = this.messages;
    const switched = this.renderedRoom !== roomId;
    const fromBottom = list.scrollHeight - list.scrollTop - list.clientHeight;
    const room = state.rooms.get(roomId);
    const me = state.user?.username;
    const items = messages.map((m) => this.messageItem(m, false, m.author === me, room ? canModerate(room) : false));
    for (const p of state.pending) {
      if (p.room !== roomId) continue;
      items.push(
        this.messageItem({ id: 0, seq: 0, author: state.user!.username, text: p.text, ts: Date.now(), clientMsgId: p.clientMsgId }, true),
      );
    }
    list.replaceChildren(...items);
    // Stay at the bottom when we were there; keep the view still when older history is prepended.
    if (switched || fromBottom < 40) list.scrollTop = list.scrollHeight;
    else list.scrollTop = list.scrollHeight - list.clientHeight - fromBottom;
    this.renderedRoom = roomId;
  }

  private startEditing(room: string, id: number, text: string): void {
    this.editing = { room, id };
    this.editingLine.textContent = 'Editing a message — Enter saves, Escape cancels';
    this.composer.value = text;
    this.composer.focus();
  }

  private stopEditing(): void {
    this.editing = undefined;
    this.editingLine.textContent = '';
  }

  private messageItem(m: ChatMessage, pending: boolean, mine = false, moderator = false): HTMLLIElement {
    const meta = el(
      'div',
      { class: 'meta' },
      el('span', { class: 'author' }, m.author),
      el('time', { datetime: new Date(m.ts).toISOString() }, timeFormat.format(m.ts)),
    );
    if (pending) meta.append(el('span', { class: 'sending' }, 'sending…'));
    if (m.editedAt) meta.append(el('span', { class: 'edited' }, '(edited)'));
    if (!pending && !m.deleted && mine) {
      meta.append(
        el('button', { type: 'button', class: 'small secondary', 'data-message-action': 'edit', 'data-id': String(m.id), 'data-text': m.text, 'aria-label': 'Edit this message' }, 'Edit'),
      );
    }
    if (!pending && !m.deleted && (mine || moderator)) {
      meta.append(
        el('button', { type: 'button', class: 'small secondary', 'data-message-action': 'delete', 'data-id': String(m.id), 'aria-label': `Delete this message by ${m.author}` }, 'Delete'),
      );
    }
    const text = el('p', { class: 'text' });
    if (m.deleted) {
      text.classList.add('deleted');
      text.textContent = 'message deleted';
    } else {
      text.textContent = m.text;
    }
    return el('li', { class: pending ? 'message pending' : 'message', 'data-seq': String(m.seq) }, meta, text);
  }

  focusComposer(): void {
    this.composer.focus();
  }
}
