import type { ChatMessage } from '@chat/schema';
import { attachmentsList } from './attachments-view.js';
import { el } from './people-view.js';
import { MENTION_PATTERN } from '@chat/schema';
import { isMe, mentionsMe } from './state.js';

/** The emoji offered by the "React" button (any emoji may be sent; these are one click away). */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '👀'];

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** What the person may do to this message, as the view knows it (the server decides again). */
export interface MessageContext {
  me: string | undefined;
  pending: boolean;
  mine: boolean;
  /** May delete others' messages (owner or moderator of a room). */
  moderator: boolean;
  /** May pin (moderator, or anyone in a direct conversation). */
  pinner: boolean;
  /** The reaction palette is open on this message. */
  picking: boolean;
  /** Shown inside the thread panel: no thread link of its own. */
  inThread?: boolean;
}

const action = (label: string, what: string, m: ChatMessage, aria: string, extra: Record<string, string> = {}) =>
  el('button', { type: 'button', class: 'small secondary', 'data-message-action': what, 'data-id': String(m.id), 'aria-label': aria, ...extra }, label);

/** The text with each `@name` as a mark, the rest as plain text nodes (never HTML). */
function textWithMentions(text: string, me: string | undefined): Array<Node | string> {
  const parts: Array<Node | string> = [];
  let last = 0;
  for (const match of text.matchAll(MENTION_PATTERN)) {
    const start = match.index;
    if (start > last) parts.push(text.slice(last, start));
    parts.push(el('mark', { class: isMe(match[1]!, me) ? 'mention own' : 'mention' }, match[0]));
    last = start + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/**
 * One message: author and time, the quote of what it replies to, its text
 * (mentions marked), its reactions as toggle buttons, and the actions the
 * person's role allows. Buttons carry `data-message-action` and the id; the
 * view handles clicks on the list (one listener, keyboard included).
 */
export function messageItem(m: ChatMessage, ctx: MessageContext): HTMLLIElement {
  const meta = el(
    'div',
    { class: 'meta' },
    el('span', { class: 'author' }, m.author),
    el('time', { datetime: new Date(m.ts).toISOString() }, timeFormat.format(m.ts)),
  );
  if (ctx.pending) meta.append(el('span', { class: 'sending' }, 'sending…'));
  if (m.editedAt) meta.append(el('span', { class: 'edited' }, '(edited)'));
  if (m.pinned) meta.append(el('span', { class: 'pinned-mark' }, 'pinned'));
  const live = !ctx.pending && !m.deleted;
  if (live) {
    meta.append(
      action('Reply', 'reply', m, `Reply to ${m.author}`),
      action('React', 'pick', m, `React to this message by ${m.author}`, { 'aria-expanded': String(ctx.picking) }),
    );
    if (ctx.mine) meta.append(action('Edit', 'edit', m, 'Edit this message', { 'data-text': m.text }));
    if (ctx.mine || ctx.moderator) meta.append(action('Delete', 'delete', m, `Delete this message by ${m.author}`));
    if (ctx.pinner) meta.append(action(m.pinned ? 'Unpin' : 'Pin', m.pinned ? 'unpin' : 'pin', m, `${m.pinned ? 'Unpin' : 'Pin'} this message`));
  }

  const children: Array<Node> = [meta];
  if (m.replyTo) {
    const quoted = m.replyTo.deleted ? 'a deleted message' : m.replyTo.text;
    children.push(el('blockquote', { class: 'quote' }, el('span', { class: 'author' }, m.replyTo.author), ': ', quoted));
  }
  const text = el('p', { class: 'text' });
  if (m.deleted) {
    text.classList.add('deleted');
    text.textContent = 'message deleted';
  } else {
    text.append(...textWithMentions(m.text, ctx.me));
  }
  children.push(text);
  if (!m.deleted && m.attachments && m.attachments.length > 0) children.push(attachmentsList(m.attachments));

  const reactions = el('div', { class: 'reactions' });
  for (const r of m.reactions ?? []) {
    const mine = ctx.me !== undefined && r.users.includes(ctx.me);
    reactions.append(
      el(
        'button',
        {
          type: 'button',
          class: mine ? 'reaction mine' : 'reaction',
          'data-message-action': mine ? 'unreact' : 'react',
          'data-id': String(m.id),
          'data-emoji': r.emoji,
          'aria-pressed': String(mine),
          'aria-label': `${r.emoji} ${r.count}: ${r.users.join(', ')}`,
          title: r.users.join(', '),
        },
        `${r.emoji} ${r.count}`,
      ),
    );
  }
  if (live && ctx.picking) {
    const palette = el('div', { class: 'palette', role: 'group', 'aria-label': 'Pick a reaction' });
    for (const emoji of QUICK_REACTIONS) {
      palette.append(el('button', { type: 'button', class: 'small secondary', 'data-message-action': 'react', 'data-id': String(m.id), 'data-emoji': emoji, 'aria-label': `React ${emoji}` }, emoji));
    }
    reactions.append(palette);
  }
  if (reactions.childElementCount > 0) children.push(reactions);
  if (!ctx.inThread && live && (m.replies ?? 0) > 0) {
    const n = m.replies!;
    children.push(action(`${n} ${n === 1 ? 'reply' : 'replies'}`, 'thread', m, `Open the thread of ${n} ${n === 1 ? 'reply' : 'replies'}`, { class: 'small secondary thread-link' }));
  }
  const classes = ['message'];
  if (ctx.pending) classes.push('pending');
  if (!m.deleted && !ctx.mine && mentionsMe(m.text, ctx.me)) classes.push('mentions-me');
  return el('li', { class: classes.join(' '), 'data-seq': String(m.seq), 'data-id': String(m.id) }, ...children);
}
