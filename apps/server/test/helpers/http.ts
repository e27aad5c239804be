import { expect } from 'vitest';
import { ADMIN_TOKEN, type TestServer } from './build.js';

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when there is none (or it is not JSON). */
  body: any;
  text: string;
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with `Content-Type: application/json` unless `headers` says otherwise. */
  rawBody?: string;
  /** `Authorization: Bearer <token>`. */
  token?: string;
  /** The whole `Cookie` header. */
  cookie?: string;
  headers?: Record<string, string>;
}

export async function request(server: TestServer, method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  let payload: string | undefined;
  if (options.rawBody !== undefined) {
    payload = options.rawBody;
    headers['content-type'] = 'application/json';
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, options.headers);
  const res = await fetch(server.url + path, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** A request to /api/admin with the configured ADMIN_TOKEN. */
export function admin(server: TestServer, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(server, method, `/api/admin${path}`, { token: ADMIN_TOKEN, ...(body === undefined ? {} : { body }) });
}

/** The contract's error shape: `{ error: { code, message } }` and nothing else, with this status. */
export function expectError(res: HttpResponse, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
}

export interface SignedIn {
  user: { id: number; username: string; guest: boolean };
  token: string;
  password: string;
}

export const PASSWORD = 'correct-horse-battery';

/** Registers a user (201 expected) and returns its session. */
export async function signUp(server: TestServer, username: string, password = PASSWORD): Promise<SignedIn> {
  const res = await request(server, 'POST', '/api/auth/register', { body: { username, password } });
  expect(res.status, res.text).toBe(201);
  return { ...(res.body as { user: SignedIn['user']; token: string }), password };
}

/** Creates a room through the admin API (201 expected). */
export async function createRoom(server: TestServer, id: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await admin(server, 'POST', '/rooms', { id, title: `Room ${id}`, ...extra });
  expect(res.status, res.text).toBe(201);
}

/** The `session` cookie a response sets, as `Set-Cookie` has it. */
export function sessionCookie(res: HttpResponse): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith('session='));
}
