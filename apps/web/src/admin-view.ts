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
}

/** What the console can ask for. */
export interface AdminActions {
  searchUsers(query: string): void;
  setActive(username: string, active: boolean): void;
  setAdmin(username: string, admin: boolean): void;
  adminCreateRoom(id: string, title: string): void;
  setArchived(room: string, archived: boolean): void;
  deleteRoom(room: string): void;
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
      el('section', { 'aria-label': 'Rooms section' }, el('h3', {}, 'Rooms'), create, this.rooms),
      el('section', { 'aria-label': 'Audit section' }, el('h3', {}, 'Audit log'), this.audit),
    );
  }

  render(data: AdminData, me: string | undefined): void {
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
          small('Delete', `Delete room ${r.id}`, () => this.actions.deleteRoom(r.id)),
        ),
      ),
    );
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
}
