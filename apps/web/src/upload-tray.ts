import type { Attachment } from '@chat/schema';
import { formatSize } from './attachments-view.js';
import { el } from './people-view.js';
import { uploadFile } from './upload.js';

/** One chosen file: on its way, ready to be sent (with the server's id), or refused. */
interface TrayEntry {
  file: File;
  sent: number;
  state: 'uploading' | 'ready' | 'failed';
  attachment?: Attachment;
  error?: string;
  abort: () => void;
}

/**
 * The files waiting above the composer. Each uploads as soon as it is chosen
 * (so Send does not wait for the bytes), shows its progress, then "ready" or
 * the server's reason in words; Remove only drops it from the next send (the
 * server keeps an unsent upload until it expires).
 */
export class UploadTray {
  readonly root = el('ul', { class: 'upload-tray', 'aria-label': 'Files to send', hidden: '' });
  private entries: TrayEntry[] = [];

  /** Starts uploading each file to `room`. */
  add(room: string, files: Iterable<File>): void {
    for (const file of files) {
      const entry: TrayEntry = { file, sent: 0, state: 'uploading', abort: () => {} };
      this.entries.push(entry);
      entry.abort = uploadFile(room, file, {
        progress: (sent) => {
          entry.sent = sent;
          this.render();
        },
        done: (attachment) => {
          Object.assign(entry, { state: 'ready', attachment });
          this.render();
        },
        failed: (message) => {
          Object.assign(entry, { state: 'failed', error: message });
          this.render();
        },
      });
    }
    this.render();
  }

  /** The ids of the uploads that finished, in the order they were chosen. */
  readyIds(): string[] {
    return this.entries.flatMap((e) => (e.state === 'ready' && e.attachment ? [e.attachment.id] : []));
  }

  /** After a send: drops what was sent and what failed; uploads still running stay for the next send. */
  clearSent(): void {
    this.entries = this.entries.filter((e) => e.state === 'uploading');
    this.render();
  }

  /** Empties the tray; uploads still running are stopped (a room switch). */
  clear(): void {
    for (const e of this.entries) if (e.state === 'uploading') e.abort();
    this.entries = [];
    this.render();
  }

  private remove(entry: TrayEntry): void {
    if (entry.state === 'uploading') entry.abort();
    this.entries = this.entries.filter((e) => e !== entry);
    this.render();
  }

  private render(): void {
    this.root.hidden = this.entries.length === 0;
    this.root.replaceChildren(
      ...this.entries.map((entry) => {
        const { file } = entry;
        const status =
          entry.state === 'uploading'
            ? el('progress', { max: String(file.size || 1), value: String(entry.sent), 'aria-label': `Uploading ${file.name}` })
            : el('span', { class: entry.state === 'ready' ? 'upload-ready' : 'upload-error', role: entry.state === 'failed' ? 'alert' : 'status' }, entry.state === 'ready' ? 'ready' : (entry.error ?? 'failed'));
        const remove = el('button', { type: 'button', class: 'small secondary', 'aria-label': `Remove ${file.name}` }, 'Remove');
        remove.addEventListener('click', () => this.remove(entry));
        return el('li', { class: `upload ${entry.state}` }, el('span', { class: 'upload-name' }, file.name), ` (${formatSize(file.size)}) `, status, remove);
      }),
    );
  }
}
