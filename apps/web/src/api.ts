import type { AuthResponse, ChatMessage, Invitation, Room, RoomSummary, SearchResponse, User } from '@chat/schema';
import type { AdminUserRow, AuditRow } from './admin-view.js';

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
  createRoom: (id: string, title: string, isPrivate = false) => request<unknown>('POST', '/api/rooms', { id, title, private: isPrivate }),
  openConversation: (usernames: string[]) => request<{ room: RoomSummary }>('POST', '/api/conversations', { usernames }).then((r) => r.room),
  invitations: () => request<{ invitations: Invitation[] }>('GET', '/api/invitations').then((r) => r.invitations),
  answerInvitation: (id: number, accept: boolean) => request<void>('POST', `/api/invitations/${id}/${accept ? 'accept' : 'decline'}`),
  invite: (room: string, username: string) => request<unknown>('POST', `/api/rooms/${encodeURIComponent(room)}/invitations`, { username }),
  inviteLink: (room: string) => request<{ token: string }>('POST', `/api/rooms/${encodeURIComponent(room)}/invite-links`, {}).then((r) => r.token),
  redeemLink: (token: string) => request<{ room: string }>('POST', `/api/invite-links/${encodeURIComponent(token)}/redeem`).then((r) => r.room),
  /** kick, ban (POST), unban (DELETE bans), transfer ownership (POST owner). */
  moderate: (room: string, what: 'kick' | 'bans' | 'owner', username: string) =>
    request<void>('POST', `/api/rooms/${encodeURIComponent(room)}/${what}`, { username }),
  setRole: (room: string, username: string, role: 'moderator' | 'member') =>
    request<void>('PUT', `/api/rooms/${encodeURIComponent(room)}/members/${encodeURIComponent(username)}/role`, { role }),
  // The admin console's calls (an admin's session opens /api/admin).
  adminStats: () =>
    request<{ connections: number; messagesStored: number; uptimeSeconds: number }>('GET', '/api/admin/stats'),
  adminUsers: (query: string) =>
    request<{ users: AdminUserRow[] }>('GET', `/api/admin/users?limit=100${query ? `&query=${encodeURIComponent(query)}` : ''}`).then((r) => r.users),
  adminRooms: () => request<{ rooms: Room[] }>('GET', '/api/admin/rooms').then((r) => r.rooms),
  adminAudit: () => request<{ entries: AuditRow[] }>('GET', '/api/admin/audit?limit=50').then((r) => r.entries),
  adminSetActive: (username: string, active: boolean) =>
    request<void>('POST', `/api/admin/users/${encodeURIComponent(username)}/${active ? 'reactivate' : 'deactivate'}`),
  adminSetRole: (username: string, admin: boolean) =>
    request<void>('PUT', `/api/admin/users/${encodeURIComponent(username)}/role`, { role: admin ? 'admin' : 'user' }),
  adminCreateRoom: (id: string, title: string) => request<unknown>('POST', '/api/admin/rooms', { id, title }),
  adminUpdateRoom: (id: string, patch: { archived: boolean }) => request<unknown>('PATCH', `/api/admin/rooms/${encodeURIComponent(id)}`, patch),
  adminDeleteRoom: (id: string) => request<void>('DELETE', `/api/admin/rooms/${encodeURIComponent(id)}`),
  adminEditRoom: (id: string, patch: { title: string; topic: string }) =>
    request<unknown>('PATCH', `/api/admin/rooms/${encodeURIComponent(id)}`, patch),
  adminMembers: (id: string) =>
    request<{ members: Array<{ username: string; role?: string; online: boolean }> }>('GET', `/api/admin/rooms/${encodeURIComponent(id)}/members`).then(
      (r) => r.members,
    ),
  /** kick and ban (POST), unban (DELETE bans). */
  adminModerate: (id: string, what: 'kick' | 'ban' | 'unban', username: string) =>
    request<void>(what === 'unban' ? 'DELETE' : 'POST', `/api/admin/rooms/${encodeURIComponent(id)}/${what === 'kick' ? 'kick' : 'bans'}`, { username }),
  adminResetPassword: (username: string, password: string) =>
    request<void>('PUT', `/api/admin/users/${encodeURIComponent(username)}/password`, { password }),
  search: (q: string, before?: number) =>
    request<SearchResponse>('GET', `/api/search?${new URLSearchParams({ q, limit: '20', ...(before ? { before: String(before) } : {}) })}`),
  history: (room: string, before?: number) =>
    request<{ messages: ChatMessage[] }>('GET', `/api/rooms/${encodeURIComponent(room)}/messages${before ? `?before=${before}` : ''}`),
};
