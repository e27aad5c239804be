import type { Invitation, RoomRole } from '@chat/schema';
import type { RoomView } from './state.js';

/** What the people parts of the page can ask for (main.ts wires them). */
export interface PeopleActions {
  answerInvitation(id: number, accept: boolean): void;
  kick(room: string, username: string): void;
  ban(room: string, username: string): void;
  setRole(room: string, username: string, role: 'moderator' | 'member'): void;
  transfer(room: string, username: string): void;
}

/** Builds an element; text goes in as text, never as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

const button = (label: string, onClick: () => void, attrs: Record<string, string> = {}) => {
  const b = el('button', { type: 'button', class: 'small secondary', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
};

/** Pending invitations, each with Accept and Decline. */
export function invitationItems(invitations: Invitation[], actions: PeopleActions): HTMLLIElement[] {
  return invitations.map((inv) =>
    el(
      'li',
      { class: 'invitation', 'data-invitation': String(inv.id) },
      el('span', {}, `#${inv.room}`, inv.invitedBy ? ` — from ${inv.invitedBy}` : ''),
      button('Accept', () => actions.answerInvitation(inv.id, true), { 'aria-label': `Accept the invitation to ${inv.room}` }),
      button('Decline', () => actions.answerInvitation(inv.id, false), { 'aria-label': `Decline the invitation to ${inv.room}` }),
    ),
  );
}

const RANK: Record<RoomRole, number> = { member: 0, moderator: 1, owner: 2 };

/**
 * A member of the open room: name, role, presence, and the actions the
 * person's own role allows on them (the server decides again; these only
 * hide what it would refuse).
 */
export function memberItem(room: RoomView, name: string, online: boolean, me: string | undefined, actions: PeopleActions): HTMLLIElement {
  const role = room.roles.get(name);
  const label = `${name}${role && role !== 'member' ? ` (${role})` : ''}${online ? '' : ' — away'}`;
  const item = el('li', { class: online ? 'online' : 'away', 'data-member': name }, el('span', {}, label));
  const mine = room.role;
  if (room.kind === 'direct' || name === me || mine === null || mine === 'member') return item;
  const theirs = role ?? 'member';
  if (RANK[theirs] >= RANK[mine]) return item;
  item.append(
    button('Kick', () => actions.kick(room.id, name), { 'aria-label': `Kick ${name}` }),
    button('Ban', () => actions.ban(room.id, name), { 'aria-label': `Ban ${name}` }),
  );
  if (mine === 'owner') {
    item.append(
      theirs === 'moderator'
        ? button('Make member', () => actions.setRole(room.id, name, 'member'), { 'aria-label': `Make ${name} a member` })
        : button('Make moderator', () => actions.setRole(room.id, name, 'moderator'), { 'aria-label': `Make ${name} a moderator` }),
      button('Make owner', () => actions.transfer(room.id, name), { 'aria-label': `Transfer ownership to ${name}` }),
    );
  }
  return item;
}
