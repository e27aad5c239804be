import type { Attachment } from '@chat/schema';

/** What an upload reports while it runs, and how it ends. */
export interface UploadHandlers {
  progress(sent: number, total: number): void;
  done(file: Attachment): void;
  /** In words, from the server's `{error: {message}}` when it gave one. */
  failed(message: string): void;
}

/**
 * Uploads one file to `POST /api/rooms/{room}/files` (multipart field `file`).
 * XMLHttpRequest rather than fetch: only it reports upload progress. The
 * session cookie goes with it (same origin). Returns a function that aborts it.
 */
export function uploadFile(room: string, file: File, handlers: UploadHandlers): () => void {
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/rooms/${encodeURIComponent(room)}/files`);
  xhr.responseType = 'json';
  xhr.upload.addEventListener('progress', (e) => handlers.progress(e.loaded, e.lengthComputable ? e.total : file.size));
  xhr.addEventListener('load', () => {
    // A 201 is the server's Attachment (its schema checks the reply); anything else carries `{error}`.
    const body: unknown = xhr.response;
    if (xhr.status === 201 && body !== null) handlers.done(body as Attachment);
    else handlers.failed(errorText(xhr.status, body));
  });
  xhr.addEventListener('error', () => handlers.failed('the upload failed: no connection to the server'));
  const form = new FormData();
  form.append('file', file, file.name);
  xhr.send(form);
  return () => xhr.abort();
}

function errorText(status: number, body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  if (typeof message === 'string' && message !== '') return message;
  return status === 413 ? 'the file is too large' : `the upload failed (HTTP ${status})`;
}
