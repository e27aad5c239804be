import type { ErrorCode } from '@chat/schema';

/** The HTTP status for each contract error code. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_json: 400,
  invalid_message: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  history_gap: 410,
  admin_disabled: 503,
  internal: 500,
};
