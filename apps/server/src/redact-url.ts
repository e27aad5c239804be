/**
 * A database or Redis URL fit for logs and error messages: the password, whether in the
 * user info (`postgres://user:secret@host/db`) or in the query
 * (`?password=secret`, which libpq and pg also read), becomes `***`.
 */
export function redactUrl(url: string): string {
  const query = url.replace(/([?&]password=)[^&#]*/gi, '$1***');
  // Not URL.parse: a Unix-socket URL (`postgres://user:secret@/db?host=/run/postgresql`)
  // has no host, which WHATWG URLs refuse but PostgreSQL accepts.
  const start = query.indexOf('://') + 3;
  // The last '@' ends the user info even if the password holds a raw '@'; one in the
  // query or path instead only hides more than needed, never less.
  const at = query.lastIndexOf('@');
  if (start < 3 || at < start) return query;
  const userinfo = query.slice(start, at);
  const colon = userinfo.indexOf(':');
  return colon < 0 ? query : `${query.slice(0, start)}${userinfo.slice(0, colon)}:***${query.slice(at)}`;
}
