/**
 * Whether a browser's `Origin` may act on this server: one of ALLOWED_ORIGINS
 * (`*`: any), or else the server's own origin (the `Host` it was asked by,
 * over http or https). Both the WebSocket upgrade and the cookie-carrying
 * HTTP writes ask here.
 */
export function originAllowed(origin: string, host: string | undefined, allowedOrigins: readonly string[] | undefined): boolean {
  if (allowedOrigins) return allowedOrigins.includes(origin) || allowedOrigins.includes('*');
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/** The origin (scheme://host[:port]) of a `Referer`, for browsers that send no `Origin`. */
export function originOfReferer(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    const origin = new URL(referer).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
