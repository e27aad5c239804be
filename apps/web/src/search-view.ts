import type { SearchResult } from '@chat/schema';
import { el } from './people-view.js';

/** The search the person ran, as the page shows it. */
export interface SearchState {
  q: string;
  results: SearchResult[];
  /** The next (older) page's cursor; null when there is none. */
  nextBefore: number | null;
  busy: boolean;
  error: string | undefined;
}

export interface SearchActions {
  search(q: string): void;
  searchMore(): void;
  clearSearch(): void;
  /** Opens the message's room with the history around it, the message in view. */
  openResult(room: string, seq: number): void;
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The snippet as text nodes, each highlighted range in a <mark>: the server sends offsets, never markup. */
export function snippetNodes(snippet: string, highlights: ReadonlyArray<readonly [number, number]>): Array<Node | string> {
  const parts: Array<Node | string> = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start < at || end > snippet.length || end <= start) continue;
    if (start > at) parts.push(snippet.slice(at, start));
    parts.push(el('mark', { class: 'match' }, snippet.slice(start, end)));
    at = end;
  }
  if (at < snippet.length) parts.push(snippet.slice(at));
  return parts;
}

/** The search box and its results, in the room list's column. */
export class SearchPanel {
  readonly root: HTMLElement;
  private readonly input = el('input', { type: 'search', name: 'q', maxlength: '200', placeholder: 'Search messages', 'aria-label': 'Search messages' });
  private readonly results = el('ol', { class: 'search-results', 'aria-label': 'Search results' });
  private readonly status = el('p', { class: 'search-status', role: 'status' });
  private readonly more = el('button', { type: 'button', class: 'small secondary' }, 'More results');
  private readonly clear = el('button', { type: 'button', class: 'small secondary' }, 'Clear');

  constructor(
    actions: SearchActions,
    private readonly labelOf: (room: string) => string,
  ) {
    const form = el('form', { class: 'search', role: 'search' }, this.input, el('button', { type: 'submit' }, 'Search'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.input.value.trim() !== '') actions.search(this.input.value.trim());
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        this.input.value = '';
        actions.clearSearch();
      }
    });
    this.more.addEventListener('click', () => actions.searchMore());
    this.clear.addEventListener('click', () => {
      this.input.value = '';
      actions.clearSearch();
      this.input.focus();
    });
    this.results.addEventListener('click', (e) => {
      const button = (e.target as Element).closest<HTMLButtonElement>('button[data-room]');
      if (button) actions.openResult(button.dataset.room!, Number(button.dataset.seq));
    });
    this.root = el('div', { class: 'search-panel' }, form, this.status, this.results, el('div', { class: 'row' }, this.more, this.clear));
  }

  render(search: SearchState | undefined): void {
    const shown = search !== undefined;
    this.results.hidden = !shown;
    this.more.hidden = !shown || search.nextBefore === null || search.busy;
    this.clear.hidden = !shown;
    this.status.hidden = !shown;
    if (!search) {
      this.results.replaceChildren();
      return;
    }
    const n = search.results.length;
    this.status.textContent = search.error
      ? search.error
      : search.busy
        ? 'Searching…'
        : n === 0
          ? `Nothing found for “${search.q}”.`
          : `${n}${search.nextBefore !== null ? '+' : ''} ${n === 1 ? 'message' : 'messages'} for “${search.q}”`;
    this.results.replaceChildren(
      ...search.results.map((r) =>
        el(
          'li',
          {},
          el(
            'button',
            { type: 'button', class: 'search-result', 'data-room': r.room, 'data-seq': String(r.seq), 'aria-label': `${r.author} in ${this.labelOf(r.room)}: ${r.snippet}` },
            el('span', { class: 'meta' }, el('span', { class: 'room-name' }, this.labelOf(r.room)), ' · ', el('span', { class: 'author' }, r.author), ' · ', el('time', { datetime: new Date(r.ts).toISOString() }, when.format(r.ts))),
            el('span', { class: 'snippet' }, ...snippetNodes(r.snippet, r.highlights)),
          ),
        ),
      ),
    );
  }
}
