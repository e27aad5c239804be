import type { AdminUser, AuditEntry, Room } from '@chat/schema';
import { el } from './people-view.js';

/** An account as the admin API lists it, and an audit entry: the contract's shapes. */
export type AdminUserRow = AdminUser;
export type AuditRow = AuditEntry;

/** What the console shows; `main.ts` loads it from the admin API. */
export interface AdminData {
  stats: { connections: number; messagesPerSecond: number | undefined; uptimeSeconds: number } | undefined;
  users: AdminUserRow[];
  rooms: Room[];
  audit: AuditRow[];
  /** The room whose members are shown, and them. */
  members: { room: string; people: Array<{ username: string; role?: string | undefined; online: boolean }> } | undefined;
}

/** What the console can ask for. */
export interface AdminActions {
  searchUsers(query: string): void;
  setActive(username: string, active: boolean): void;
  setAdmin(username: string, admin: boolean): void;
  adminCreateRoom(id: string, title: string): void;
  setArchived(room: string, archived: boolean): void;
  deleteRoom(room: string): void;
  editRoom(room: string, title: string, topic: string): void;
  showMembers(room: string): void;
  moderate(room: string, what: 'kick' | 'ban' | 'unban', username: string): void;
  resetPassword(username: string, password: string): void;
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
const small = (label: string, aria: string, onClick: () => void) => {
  const b = el('button', { type: 'button', class: 'small secondary', 'aria-label': aria }, label);
  b.addEventListener('click', onClick);
  return b;
};

/**
 * The admin console, for instance admins: live figures, accounts (search,
 * deactivate, admin role), rooms (create, archive, delete) and the audit log.
 * Every control is a button or a form field: all of it works from the keyboard.
 */
export class AdminConsole {
  readonly root = el('section', { class: 'admin', 'aria-label': 'Admin console' });
  private readonly stats = el('dl', { class: 'stats', 'aria-label': 'Server figures' });
  private readonly users = el('ul', { class: 'admin-list', 'aria-label': 'Accounts' });
  private readonly rooms = el('ul', { class: 'admin-list', 'aria-label': 'All rooms' });
  private readonly audit = el('ol', { class: 'admin-list', 'aria-label': 'Audit log' });
  private readonly members = el('div', { class: 'admin-members' });
  /** The account whose password reset field is open. */
  private resetting: string | undefined;
  private last: { data: AdminData; me: string | undefined } | undefined;

  constructor(private readonly actions: AdminActions) {
    const query = el('input', { name: 'user-query', 'aria-label': 'Search accounts', placeholder: 'part of a name' });
    const search = el('form', { class: 'row', 'aria-label': 'Account search' }, query, el('button', { type: 'submit' }, 'Search'));
    search.addEventListener('submit', (e) => {
      e.preventDefault();
      actions.searchUsers(query.value.trim());
    });
    const roomId = el('input', { name: 'admin-room-id', 'aria-label': 'New room id', placeholder: 'room id', required: '', pattern: '[a-z0-9][a-z0-9\\-]{0,63}' });
    const roomTitle = el('input', { name: 'admin-room-title', 'aria-label': 'New room title', placeholder: 'title', required: '' });
    const create = el('form', { class: 'row', 'aria-label': 'Create a room' }, roomId, roomTitle, el('button', { type: 'submit' }, 'Create'));
    create.addEventListener('submit', (e) => {
      e.preventDefault();
      actions.adminCreateRoom(roomId.value.trim(), roomTitle.value.trim());
      create.reset();
    });
    this.root.append(
      el('h2', {}, 'Admin console'),
      el('section', { 'aria-label': 'Server' }, el('h3', {}, 'Server'), this.stats),
      el('section', { 'aria-label': 'Accounts section' }, el('h3', {}, 'Accounts'), search, this.users),
      el('section', { 'aria-label': 'Rooms section' }, el('h3', {}, 'Rooms'), create, this.rooms, this.members),
      el('section', { 'aria-label': 'Audit section' }, el('h3', {}, 'Audit log'), this.audit),
    );
  }

  render(data: AdminData, me: string | undefined): void {
    this.last = { data, me };
    const s = data.stats;
    const figure = (term: string, value: string) => [el('dt', {}, term), el('dd', {}, value)];
    this.stats.replaceChildren(
      ...figure('Connections', s ? String(s.connections) : '…'),
      ...figure('Messages per second', s?.messagesPerSecond === undefined ? '…' : s.messagesPerSecond.toFixed(1)),
      ...figure('Up for', s ? `${Math.floor(s.uptimeSeconds / 60)} min` : '…'),
    );
    this.users.replaceChildren(
      ...data.users.map((u) => {
        const tags = [u.admin && 'admin', u.guest && 'guest', u.deactivated && 'deactivated'].filter(Boolean).join(', ');
        const seen = u.lastSeenAt === null ? 'never seen' : `seen ${when.format(u.lastSeenAt)}`;
        const item = el('li', { 'data-user': u.username }, el('span', {}, `${u.username}${tags ? ` (${tags})` : ''} — ${seen}`));
        if (u.username !== me) {
          item.append(
            u.deactivated
              ? small('Reactivate', `Reactivate ${u.username}`, () => this.actions.setActive(u.username, true))
              : small('Deactivate', `Deactivate ${u.username}`, () => this.actions.setActive(u.username, false)),
          );
          if (!u.guest) {
            item.append(small('Reset password', `Reset the password of ${u.username}`, () => this.openReset(u.username)));
            if (this.resetting === u.username) item.append(this.resetForm(u.username));
            item.append(
              u.admin
                ? small('Remove admin', `Remove admin rights of ${u.username}`, () => this.actions.setAdmin(u.username, false))
                : small('Make admin', `Make ${u.username} an admin`, () => this.actions.setAdmin(u.username, true)),
            );
          }
        }
        return item;
      }),
    );
    this.rooms.replaceChildren(
      ...data.rooms.map((r) =>
        el(
          'li',
          { 'data-admin-room': r.id },
          el('span', {}, `#${r.id} — ${r.title}${r.private ? ' (private)' : ''}${r.archived ? ' (archived)' : ''}`),
          r.archived
            ? small('Unarchive', `Unarchive ${r.id}`, () => this.actions.setArchived(r.id, false))
            : small('Archive', `Archive ${r.id}`, () => this.actions.setArchived(r.id, true)),
          small('Members', `Members of ${r.id}`, () => this.actions.showMembers(r.id)),
          small('Delete', `Delete room ${r.id}`, () => this.actions.deleteRoom(r.id)),
        ),
      ),
    );
    this.renderMembers(data, me);
    this.audit.replaceChildren(
      ...data.audit.map((a) =>
        el(
          'li',
          {},
          `${when.format(a.at)} · ${a.actor} · ${a.action}${a.target ? ` → ${a.target}` : ''}${a.room ? ` in #${a.room}` : ''}`,
        ),
      ),
    );
  }

  /** The chosen room's title, topic, members (kick, ban) and an unban by name. */
  private renderMembers(data: AdminData, me: string | undefined): void {
    const m = data.members;
    if (!m) {
      this.members.replaceChildren();
      return;
    }
    const room = data.rooms.find((r) => r.id === m.room);
    const title = el('input', { name: 'edit-title', 'aria-label': `Title of ${m.room}`, value: room?.title ?? '' });
    const topic = el('input', { name: 'edit-topic', 'aria-label': `Topic of ${m.room}`, value: room?.topic ?? '' });
    const edit = el('form', { class: 'row', 'aria-label': `Edit ${m.room}` }, title, topic, el('button', { type: 'submit' }, 'Save'));
    edit.addEventListener('submit', (e) => {
      e.preventDefault();
      this.actions.editRoom(m.room, title.value.trim(), topic.value);
    });
    const banned = el('input', { name: 'unban-name', 'aria-label': `Unban from ${m.room}`, placeholder: 'username' });
    const unban = el('form', { class: 'row', 'aria-label': `Unban someone from ${m.room}` }, banned, el('button', { type: 'submit', class: 'secondary' }, 'Unban'));
    unban.addEventListener('submit', (e) => {
      e.preventDefault();
      this.actions.moderate(m.room, 'unban', banned.value.trim());
    });
    const people = el(
      'ul',
      { class: 'admin-list', 'aria-label': `Members of ${m.room}` },
      ...m.people.map((p) =>
        el(
          'li',
          {},
          el('span', {}, `${p.username}${p.role && p.role !== 'member' ? ` (${p.role})` : ''}${p.online ? '' : ' — away'}`),
          ...(p.username === me
            ? []
            : [
                small('Kick', `Kick ${p.username} from ${m.room}`, () => this.actions.moderate(m.room, 'kick', p.username)),
                small('Ban', `Ban ${p.username} from ${m.room}`, () => this.actions.moderate(m.room, 'ban', p.username)),
              ]),
        ),
      ),
    );
    this.members.replaceChildren(el('h4', {}, `#${m.room}`), edit, people, unban);
  }

  private openReset(username: string): void {
    this.resetting = this.resetting === username ? undefined : username;
    if (this.last) this.render(this.last.data, this.last.me);
    (this.users.querySelector('input[name="reset-password"]') as HTMLInputElement | null)?.focus();
  }

  private resetForm(username: string): HTMLFormElement {
    const password = el('input', { name: 'reset-password', type: 'password', autocomplete: 'new-password', 'aria-label': `New password for ${username}`, minlength: '8' });
    const form = el('form', { class: 'row', 'aria-label': `Reset ${username}'s password` }, password, el('button', { type: 'submit' }, 'Set'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.resetting = undefined;
      this.actions.resetPassword(username, password.value);
    });
    return form;
  }
}
