import type { ChatMessage } from '@chat/schema';
import { AdminConsole, type AdminActions } from './admin-view.js';
import { messageItem } from './message-view.js';
import { el, invitationItems, memberItem, type PeopleActions } from './people-view.js';
import { UploadTray } from './upload-tray.js';
import { SearchPanel, type SearchActions } from './search-view.js';
import { canModerate, canPin, orderedMessages, roomLabel, typingUsers, type AppState, type RoomView } from './state.js';

/** What the person can do; `main.ts` wires these to the API and the socket. */
export interface ViewActions extends PeopleActions, AdminActions, SearchActions {
  /** Shows or hides the admin console (admins only). */
  toggleAdmin(): void;
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
  /** A message, or a reply to the message `replyTo`; `attachments` are uploaded files' ids. */
  send(text: string, replyTo?: number, attachments?: string[]): void;
  react(room: string, id: number, emoji: string, add: boolean): void;
  pin(room: string, id: number, pinned: boolean): void;
  openThread(room: string, id: number): void;
  closeThread(): void;
  showPins(room: string): void;
  typing(): void;
  loadOlder(): void;
  /** Loads the messages just before `beforeSeq`, where the loaded history has a hole (after opening a search result). */
  loadGap(room: string, beforeSeq: number): void;
}

/**
 * Renders the state into the page (TodoMVC-style View: `render` + bound
 * actions). All chat text is set with `textContent`/`append(string)`, so a
 * message containing HTML shows as the literal characters.
 */
export class View {
  private readonly status = el('span', { class: 'status', role: 'status' });
  private readonly me = el('span', { class: 'me' });
  private readonly logoutButton = el('button', { type: 'button', class: 'secondary' }, 'Log out');
  private readonly adminButton = el('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false' }, 'Admin console');
  private readonly adminConsole: AdminConsole;
  private readonly searchPanel: SearchPanel;
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
  /** The message the next send replies to. */
  private replying: { room: string; id: number } | undefined;
  /** The message whose reaction palette is open. */
  private picking: number | undefined;
  /** The message last brought into view from a search result: marked until another is. */
  private focused: { room: string; seq: number } | undefined;
  private readonly pinsButton = el('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false' }, 'Pinned');
  private showingPins = false;
  private readonly pinsPanel = el('section', { class: 'side-panel pins', 'aria-label': 'Pinned messages' });
  private readonly pinsList = el('ol', { class: 'messages compact', 'aria-label': 'Pinned messages' });
  private readonly threadPanel = el('section', { class: 'side-panel thread', 'aria-label': 'Thread' });
  private readonly threadList = el('ol', { class: 'messages compact', 'aria-label': 'Replies' });
  private readonly threadParent = el('div', { class: 'thread-parent' });
  private lastState: AppState | undefined;
  private readonly uploads = new UploadTray();

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

    const fileInput = el('input', { type: 'file', multiple: '', hidden: '', 'aria-label': 'Files to attach' });
    const attachButton = el('button', { type: 'button', class: 'secondary' }, 'Attach files');
    attachButton.addEventListener('click', () => fileInput.click());
    const composerForm = el(
      'form',
      { class: 'composer', 'aria-label': 'Send a message' },
      el('label', { for: 'composer-text', class: 'visually-hidden' }, 'Message'),
      this.composer,
      attachButton,
      fileInput,
      el('button', { type: 'submit' }, 'Send'),
    );
    const submit = () => {
      const text = this.composer.value;
      const files = this.editing ? [] : this.uploads.readyIds();
      // Files alone make a message; an edit changes only the text.
      if (text.trim() === '' && files.length === 0) return;
      if (this.editing) actions.editMessage(this.editing.room, this.editing.id, text);
      else actions.send(text.trim() === '' ? '' : text, this.replying?.room === this.renderedRoom ? this.replying?.id : undefined, files);
      if (!this.editing) this.uploads.clearSent();
      this.stopEditing();
      this.composer.value = '';
    };
    this.bindFileSources(fileInput);
    for (const list of [this.messages, this.threadList, this.pinsList]) list.addEventListener('click', (e) => this.onMessageAction(e));
    composerForm.addEventListener('submit', (e) => {
      e.preventDefault();
      submit();
    });
    this.composer.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter (or composing an IME character) inserts a line break.
      if (e.key === 'Escape' && (this.editing || this.replying)) {
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
    this.pinsButton.addEventListener('click', () => {
      this.showingPins = !this.showingPins;
      if (this.showingPins && this.renderedRoom) actions.showPins(this.renderedRoom);
      this.rerender();
    });
    const closeThread = el('button', { type: 'button', class: 'small secondary' }, 'Close thread');
    closeThread.addEventListener('click', () => actions.closeThread());
    this.threadPanel.append(el('header', { class: 'panel-header' }, el('h3', {}, 'Thread'), closeThread), this.threadParent, this.threadList);
    this.pinsPanel.append(el('h3', {}, 'Pinned messages'), this.pinsList);
    this.logoutButton.addEventListener('click', () => actions.logout());
    this.adminButton.addEventListener('click', () => actions.toggleAdmin());
    this.adminConsole = new AdminConsole(actions);
    this.searchPanel = new SearchPanel(actions, (id) => {
      const room = this.lastState?.rooms.get(id);
      return room ? roomLabel(room, this.lastState?.user?.username) : `#${id}`;
    });

    this.roomSection = el(
      'section',
      { class: 'room', 'aria-labelledby': 'room-title' },
      el('header', { class: 'room-header' }, el('div', {}, this.roomTitle, this.roomTopic), el('div', { class: 'row' }, this.pinsButton, this.leaveButton)),
      this.roomTools,
      this.members,
      this.pinsPanel,
      this.threadPanel,
      this.messages,
      this.typingLine,
      this.editingLine,
      this.uploads.root,
      composerForm,
    );
    this.roomTitle.id = 'room-title';
    this.chat = el(
      'main',
      { class: 'chat' },
      el(
        'nav',
        { 'aria-label': 'Rooms' },
        this.searchPanel.root,
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
      el('header', { class: 'topbar' }, el('h1', {}, 'Chat'), this.status, this.me, this.adminButton, this.logoutButton),
      this.notice,
      this.signIn,
      this.chat,
    );
  }

  render(state: AppState, now: number): void {
    this.lastState = state;
    const signedIn = state.user !== undefined;
    this.signIn.hidden = signedIn;
    this.chat.hidden = !signedIn || (state.adminOpen && state.user?.admin === true);
    this.logoutButton.hidden = !signedIn;
    const adminShown = signedIn && state.user?.admin === true && state.adminOpen;
    this.adminButton.hidden = !(signedIn && state.user?.admin === true);
    this.adminButton.setAttribute('aria-pressed', String(adminShown));
    // In the page only while shown: its forms' labels never stand beside the chat's.
    if (adminShown && !this.adminConsole.root.isConnected) this.chat.after(this.adminConsole.root);
    if (!adminShown && this.adminConsole.root.isConnected) this.adminConsole.root.remove();
    if (adminShown) this.adminConsole.render(state.admin, state.user?.username);
    this.me.textContent = state.user ? `${state.user.username}${state.user.guest ? ' (guest)' : ''}` : '';
    this.status.textContent = !signedIn ? '' : state.status === 'online' ? 'Connected' : state.status === 'connecting' ? 'Connecting…' : 'Offline — reconnecting…';
    this.status.dataset.state = state.status;
    this.notice.textContent = state.notice ?? '';
    this.notice.hidden = state.notice === undefined;
    if (!signedIn) return;

    this.searchPanel.render(state.search);
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
          if (room.mentions > 0) {
            button.append(el('span', { class: 'badge mention', 'aria-label': `${room.mentions} mentioning you` }, `@${room.mentions}`));
          }
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
    if (this.renderedRoom !== room.id) {
      // Uploads belong to the room they went to: another room's send cannot name them.
      if (this.renderedRoom !== undefined) this.uploads.clear();
      this.showingPins = false;
      this.picking = undefined;
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
    this.renderPanels(state, room);
  }

  /** The pinned list and the open thread, beside the room's messages. */
  private renderPanels(state: AppState, room: RoomView): void {
    const me = state.user?.username;
    const ctx = (m: ChatMessage, inThread: boolean) => ({
      me,
      pending: false,
      mine: m.author === me,
      moderator: canModerate(room),
      pinner: canPin(room),
      picking: this.picking === m.id,
      inThread,
    });
    this.pinsButton.setAttribute('aria-expanded', String(this.showingPins));
    this.pinsPanel.hidden = !this.showingPins;
    const pins = room.pins ?? [];
    this.pinsList.replaceChildren(...(pins.length > 0 ? pins.map((m) => messageItem(m, ctx(m, true))) : [el('li', { class: 'empty' }, 'Nothing pinned yet.')]));
    const thread = state.thread?.room === room.id ? state.thread : undefined;
    this.threadPanel.hidden = thread === undefined;
    if (!thread) return;
    const parent = [...room.messages.values()].find((m) => m.id === thread.id);
    this.threadParent.replaceChildren(...(parent ? [messageItem(parent, ctx(parent, true))] : []));
    this.threadList.replaceChildren(...thread.messages.map((m) => messageItem(m, ctx(m, true))));
  }

  private rerender(): void {
    if (this.lastState) this.render(this.lastState, Date.now());
  }

  /** A click on a message's button, in the room, the thread or the pinned list. */
  private onMessageAction(e: Event): void {
    const button = (e.target as HTMLElement).closest('button[data-message-action]') as HTMLButtonElement | null;
    const room = this.renderedRoom;
    if (!button || !room) return;
    const id = Number(button.dataset.id);
    const emoji = button.dataset.emoji ?? '';
    switch (button.dataset.messageAction) {
      case 'delete':
        this.actions.deleteMessage(room, id);
        return;
      case 'edit':
        this.startEditing(room, id, button.dataset.text ?? '');
        return;
      case 'reply':
        this.startReplying(room, id);
        return;
      case 'pick': {
        this.picking = this.picking === id ? undefined : id;
        const list = button.closest('ol');
        this.rerender();
        // The page was drawn anew: the keyboard goes on at the palette's first emoji.
        (list?.querySelector('.palette button') as HTMLButtonElement | null)?.focus();
        return;
      }
      case 'react':
        this.picking = undefined;
        this.actions.react(room, id, emoji, true);
        return;
      case 'unreact':
        this.actions.react(room, id, emoji, false);
        return;
      case 'pin':
      case 'unpin':
        this.actions.pin(room, id, button.dataset.messageAction === 'pin');
        return;
      case 'thread':
        this.actions.openThread(room, id);
        return;
    }
  }

  private startReplying(room: string, id: number): void {
    const parent = this.lastState?.rooms.get(room)?.messages;
    const quoted = parent ? [...parent.values()].find((m) => m.id === id) : undefined;
    this.editing = undefined;
    this.replying = { room, id };
    this.editingLine.textContent = `Replying to ${quoted?.author ?? 'a message'} — Enter sends, Escape cancels`;
    this.composer.focus();
  }

  private renderMessages(state: AppState, roomId: string, messages: ChatMessage[]): void {
    const list = this.messages;
    const switched = this.renderedRoom !== roomId;
    const fromBottom = list.scrollHeight - list.scrollTop - list.clientHeight;
    const room = state.rooms.get(roomId);
    const me = state.user?.username;
    const moderator = room ? canModerate(room) : false;
    const pinner = room ? canPin(room) : false;
    const items: HTMLLIElement[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const before = messages[i - 1];
      // A hole in what is loaded (history opened around a search result): a button fills it from below.
      if (before && m.seq - before.seq > 1) {
        const missing = m.seq - before.seq - 1;
        const fill = el('button', { type: 'button', class: 'small secondary', 'data-gap-before': String(m.seq) }, `Load ${missing} more ${missing === 1 ? 'message' : 'messages'}`);
        fill.addEventListener('click', () => this.actions.loadGap(roomId, m.seq));
        items.push(el('li', { class: 'gap' }, fill));
      }
      const item = messageItem(m, { me, pending: false, mine: m.author === me, moderator, pinner, picking: this.picking === m.id });
      if (this.focused?.room === roomId && this.focused.seq === m.seq) item.classList.add('focused');
      items.push(item);
    }
    for (const p of state.pending) {
      if (p.room !== roomId) continue;
      const draft = { id: 0, seq: 0, author: state.user!.username, text: p.text, ts: Date.now(), clientMsgId: p.clientMsgId };
      items.push(messageItem(draft, { me, pending: true, mine: true, moderator, pinner, picking: false }));
    }
    list.replaceChildren(...items);
    // A search result opened: once its message is here, it is brought into view (once) and marked.
    const focus = state.focus?.room === roomId ? list.querySelector<HTMLElement>(`li.message[data-seq="${state.focus.seq}"]`) : null;
    if (focus) {
      this.focused = state.focus;
      state.focus = undefined;
      focus.classList.add('focused');
      focus.setAttribute('tabindex', '-1');
      focus.scrollIntoView({ block: 'center' });
      focus.focus({ preventScroll: true });
    } else if (switched || fromBottom < 40) {
      // Stay at the bottom when we were there; keep the view still when older history is prepended.
      list.scrollTop = list.scrollHeight;
    } else {
      list.scrollTop = list.scrollHeight - list.clientHeight - fromBottom;
    }
    this.renderedRoom = roomId;
  }

  private startEditing(room: string, id: number, text: string): void {
    this.replying = undefined;
    this.editing = { room, id };
    this.editingLine.textContent = 'Editing a message — Enter saves, Escape cancels';
    this.composer.value = text;
    this.composer.focus();
  }

  private stopEditing(): void {
    this.editing = undefined;
    this.replying = undefined;
    this.editingLine.textContent = '';
  }

  /** Files come from the attach button, a drop on the messages, or a paste into the composer. */
  private bindFileSources(fileInput: HTMLInputElement): void {
    const take = (files: FileList | null | undefined) => {
      if (this.renderedRoom && files && files.length > 0) this.uploads.add(this.renderedRoom, [...files]);
    };
    fileInput.addEventListener('change', () => {
      take(fileInput.files);
      fileInput.value = ''; // the same file may be chosen again
    });
    this.messages.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault(); // allows the drop
    });
    this.messages.addEventListener('drop', (e) => {
      if (!e.dataTransfer || e.dataTransfer.files.length === 0) return;
      e.preventDefault(); // or the browser opens the file in place of the app
      take(e.dataTransfer.files);
    });
    this.composer.addEventListener('paste', (e) => {
      const files = e.clipboardData?.files;
      if (!files || files.length === 0) return; // plain text pastes as usual
      e.preventDefault();
      take(files);
    });
  }

  focusComposer(): void {
    this.composer.focus();
  }
}
