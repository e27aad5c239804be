import type { ErrorCode } from '@chat/schema';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError } from '../domain-error.js';
import { HTTP_STATUS } from '../http-errors.js';

const body = (code: ErrorCode, message: string) => ({ error: { code, message } });

/** Every error leaves as `{ error: { code, message } }` with a fitting status. */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof DomainError) {
        return reply.status(HTTP_STATUS[error.code]).send(body(error.code, error.message));
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        const issue = error.validation[0];
        const where = issue?.instancePath ? `${error.validationContext ?? ''}${issue.instancePath}: ` : '';
        return reply.status(400).send(body('invalid_request', `${where}${issue?.message ?? 'invalid request'}`));
      }
      const status = error.statusCode ?? 500;
      if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (status === 400 && /JSON/i.test(error.message))) {
        return reply.status(400).send(body('bad_json', 'the body is not valid JSON'));
      }
      if (status === 413) return reply.status(413).send(body('too_large', 'the body is too large'));
      if (status >= 400 && status < 500) {
        return reply.status(status).send(body(status === 404 ? 'not_found' : 'invalid_request', error.message));
      }
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send(body('internal', 'internal server error'));
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send(body('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'errors' },
);
