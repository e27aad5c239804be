import type { Attachment } from '@chat/schema';
import { el } from './people-view.js';

/** "1.5 MB": sizes as people read them. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * A message's files: images as previews (the thumbnail when there is one,
 * sized from the stored width and height so the list does not jump when it
 * loads), linking to the full image; other files as a download link with
 * name and size. Names go in as text, URLs as attributes: never HTML.
 */
export function attachmentsList(files: readonly Attachment[]): HTMLElement {
  const list = el('ul', { class: 'attachments', 'aria-label': 'Files' });
  for (const f of files) {
    if (f.width !== undefined && f.height !== undefined) {
      // The thumbnail fits in 320×320 (the server's THUMBNAIL_SIDE) keeping the aspect ratio.
      const scale = Math.min(1, 320 / Math.max(f.width, f.height));
      const img = el('img', {
        src: f.thumbnailUrl ?? f.url,
        alt: f.name,
        width: String(Math.round(f.width * scale)),
        height: String(Math.round(f.height * scale)),
        loading: 'lazy',
      });
      list.append(el('li', { class: 'attachment image' }, el('a', { href: f.url, target: '_blank', rel: 'noopener' }, img)));
    } else {
      const link = el('a', { href: f.url, download: f.name }, f.name);
      list.append(el('li', { class: 'attachment file' }, link, ` (${formatSize(f.size)})`));
    }
  }
  return list;
}
