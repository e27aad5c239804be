import type { AuthResponse, ChatMessage, RoomSummary, User } from '@chat/schema';

/** An HTTP error from the server, with the contract's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin', // the HttpOnly `session` cookie carries the session
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!response.ok) {
    throw new ApiError(response.status, data.error?.code ?? 'internal', data.error?.message ?? response.statusText);
  }
  return data as T;
}

/** The REST calls the client makes; the WebSocket carries everything else. */
export const api = {
  /** Who is signed in, or null: asked on load, so that being signed out is no error in the console. */
  session: () => request<{ user: User | null }>('GET', '/api/session').then((r) => r.user),
  register: (username: string, password: string) => request<AuthResponse>('POST', '/api/auth/register', { username, password }),
  login: (username: string, password: string) => request<AuthResponse>('POST', '/api/auth/login', { username, password }),
  guest: (username: string) => request<AuthResponse>('POST', '/api/auth/guest', { username }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  rooms: () => request<{ rooms: RoomSummary[] }>('GET', '/api/rooms').then((r) => r.rooms),
  createRoom: (id: string, title: string) => request<unknown>('POST', '/api/rooms', { id, title }),
  history: (room: string, before?: number) =>
    request<{ messages: ChatMessage[] }>('GET', `/api/rooms/${encodeURIComponent(room)}/messages${before ? `?before=${before}` : ''}`),
};
