import multipart from '@fastify/multipart';
import { ErrorBody, FileParams, RoomId, UploadResponse } from '@chat/schema';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { toAttachment } from '../chat/wire.js';
import { DomainError } from '../domain-error.js';
import { parseRange } from '../http-range.js';
import { requireUser } from '../plugins/auth.js';

/** The request body itself failed (cut off, malformed multipart): the client's fault, 400, not ours. */
class BodyError extends Error {
  override name = 'BodyError';
}

/** The body as the file store reads it, with its own failures told apart from the store's (a full disk stays a 500). */
async function* bodyOf(stream: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const it = stream[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await it.next();
    } catch (err) {
      throw new BodyError(err instanceof Error ? err.message : String(err));
    }
    if (next.done) return;
    yield next.value;
  }
}

/** `attachment; filename="…"` with an ASCII fallback and RFC 8187's UTF-8 form (RFC 6266 §4.3). */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/**
 * Files: upload one into a room (multipart, field `file`), fetch one (or its
 * thumbnail) as a member of the room. The rules are the domain's
 * (chat/attachments.ts); this maps HTTP onto them.
 */
export async function fileRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.addHook('onRequest', requireUser);
  const attachments = app.chat.attachments;
  const limits = attachments.limits;
  // Registered here only: no other route takes multipart bodies. One file per request, a few small fields at most.
  await app.register(multipart, {
    // The name as sent, path and all: busboy would cut `../../x` to `x`, and the domain refuses such names instead.
    preservePath: true,
    limits: { files: 1, fields: 5, fieldSize: 1024, parts: 6, headerPairs: 50, fileSize: limits.maxFileBytes + 1 },
  });
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

  app.post(
    '/api/rooms/:id/files',
    {
      schema: {
        tags: ['files'],
        summary: 'Upload a file (multipart/form-data, field `file`) to attach to a message of the room',
        consumes: ['multipart/form-data'],
        params: z.object({ id: RoomId }),
        response: { 201: UploadResponse, ...errors },
      },
    },
    async (request, reply) => {
      const userId = request.user!.id;
      const roomId = request.params.id;
      // Before a byte of the body is read: a stranger's or an over-quota upload is refused at once.
      await attachments.mayUpload(userId, roomId);
      if (!request.isMultipart()) throw new DomainError('invalid_request', 'send the file as multipart/form-data, in the field "file"');
      try {
        const part = await request.file().catch((err: unknown) => {
          throw (err as { statusCode?: number }).statusCode ? err : new BodyError(String((err as Error).message ?? err));
        });
        if (part?.fieldname !== 'file') throw new DomainError('invalid_request', 'the upload needs one file, in the field "file"');
        const record = await attachments.upload(userId, roomId, { name: part.filename, claimedType: part.mimetype, body: bodyOf(part.file) });
        return reply.status(201).send(toAttachment(roomId, record));
      } catch (err) {
        // The rest of a refused body is not worth reading: the connection closes after the answer.
        reply.header('connection', 'close');
        if (err instanceof BodyError) throw new DomainError('invalid_request', `the upload did not arrive whole: ${err.message}`);
        throw err;
      }
    },
  );

  for (const variant of ['file', 'thumbnail'] as const) {
    app.get(
      variant === 'file' ? '/api/rooms/:id/files/:fileId' : '/api/rooms/:id/files/:fileId/thumbnail',
      {
        schema: {
          tags: ['files'],
          summary:
            variant === 'file'
              ? 'A file of the room (members only); Range requests are answered with 206'
              : "An image's thumbnail (WebP, at most 320 pixels each way)",
          params: FileParams,
          response: {
            200: z.unknown().describe('the bytes, with the sniffed Content-Type and a Content-Disposition'),
            206: z.unknown().describe('the bytes of the range asked for'),
            400: ErrorBody,
            401: ErrorBody,
            404: ErrorBody,
            416: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const { id, fileId } = request.params;
        const download = await attachments.open(request.user!.id, id, fileId, variant);
        const size = download.file.size;
        const name = variant === 'file' ? download.record.name : `${download.record.name}.thumbnail.webp`;
        const range = parseRange(request.headers.range, size);
        if (range === 'unsatisfiable') {
          reply.header('content-range', `bytes */${size}`).header('accept-ranges', 'bytes');
          return reply.status(416).send({ error: { code: 'invalid_request', message: `the file has ${size} bytes` } });
        }
        reply
          .header('content-type', download.contentType)
          // The type is ours (sniffed), never to be second-guessed; and whatever a file holds, it runs nothing here.
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
          .header('content-disposition', contentDisposition(download.inline ? 'inline' : 'attachment', name))
          // An id names the same bytes forever; private: it is a member's copy.
          .header('cache-control', 'private, max-age=31536000, immutable')
          .header('etag', `"${fileId}${variant === 'thumbnail' ? '-t' : ''}"`)
          .header('accept-ranges', 'bytes');
        if (range) {
          reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
          reply.header('content-length', range.end - range.start + 1);
          return reply.send(download.file.read(range.start, range.end));
        }
        reply.header('content-length', size);
        return reply.send(size === 0 ? '' : download.file.read(0, size - 1));
      },
    );
  }
}
