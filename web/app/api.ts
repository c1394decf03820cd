/**
 * The app's only way to the server: same-origin `fetch` calls to the HTTP API (the page's CSP allows no
 * other origin). Every refusal becomes an `ApiError` carrying the registry's code and both of its
 * messages, so a screen shows the server's own words in the chosen language.
 *
 * The session token lives in `localStorage` so a phone that closes the tab stays signed in for the
 * session's lifetime; "Keluar" revokes it on the server and forgets it here.
 */
import { type Language, format } from './texts.js';

export interface ApiErrorFields {
  readonly code: string;
  readonly status: number;
  readonly messageId: string;
  readonly messageEn: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly messageId: string;
  readonly messageEn: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(fields: ApiErrorFields) {
    super(fields.messageEn);
    this.code = fields.code;
    this.status = fields.status;
    this.messageId = fields.messageId;
    this.messageEn = fields.messageEn;
    this.details = fields.details;
  }

  /** A passing refusal (network, busy, overload, a duplicate still running): the same request may succeed later. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.status === 409;
  }
}

/** The words for `error` in `language`: the server's own message when it sent one. */
export function errorText(error: unknown, language: Language): string {
  if (error instanceof ApiError) return language === 'id' ? error.messageId : error.messageEn;
  return format(language, 'networkError');
}

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly phone: string;
}

const sessionKey = 'bubuh.session';

export function loadSession(): Session | null {
  try {
    const stored = JSON.parse(localStorage.getItem(sessionKey) ?? 'null') as Session | null;
    if (!stored || typeof stored.token !== 'string' || Date.parse(stored.expiresAt) <= Date.now())
      return null;
    return stored;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) localStorage.setItem(sessionKey, JSON.stringify(session));
  else localStorage.removeItem(sessionKey);
}

/** Called when the server no longer accepts the session (401 AUTH_REQUIRED); the app signs out. */
let sessionEnded: () => void = () => {};
export function onSessionEnded(listener: () => void): void {
  sessionEnded = listener;
}

/** The refusal that sends a visitor to the waiting room, and the header that carries their ticket. */
export const waitingRoomCode = 'WAITING_ROOM';
export const waitingRoomHeader = 'x-waiting-room-ticket';
const ticketKey = 'bubuh.waiting-room-ticket';

/** The waiting-room ticket kept across reloads, so a reload keeps the visitor's place. */
export function storedTicket(): string | null {
  try {
    return localStorage.getItem(ticketKey);
  } catch {
    return null;
  }
}

export function storeTicket(ticket: string | null): void {
  try {
    if (ticket) localStorage.setItem(ticketKey, ticket);
    else localStorage.removeItem(ticketKey);
  } catch {
    // Without storage the place is kept for this visit only.
  }
}

let waitingRoomEntered: (problem: ApiError) => void = () => {};
export function onWaitingRoom(listener: (problem: ApiError) => void): void {
  waitingRoomEntered = listener;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'DELETE';
  readonly token?: string | null;
  /** JSON, or a multipart form. */
  readonly body?: unknown;
  readonly idempotencyKey?: string;
}

function problemOf(status: number, body: unknown): ApiError {
  const error = (body as { error?: Partial<Record<string, unknown>> } | null)?.error;
  if (error && typeof error.code === 'string') {
    return new ApiError({
      code: error.code,
      status,
      messageId: String(error.message_id ?? error.message ?? error.code),
      messageEn: String(error.message ?? error.code),
      details: (error.details as Record<string, unknown> | undefined) ?? {},
    });
  }
  return new ApiError({
    code: `HTTP_${status}`,
    status,
    messageId: format('id', 'unexpectedAnswer', { status }),
    messageEn: format('en', 'unexpectedAnswer', { status }),
    details: {},
  });
}

const networkError = () =>
  new ApiError({
    code: 'NETWORK',
    status: 0,
    messageId: format('id', 'networkError'),
    messageEn: format('en', 'networkError'),
    details: {},
  });

async function send(path: string, options: RequestOptions, accept: string): Promise<Response> {
  const headers: Record<string, string> = { accept };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const ticket = storedTicket();
  if (ticket) headers[waitingRoomHeader] = ticket;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    // Same origin only: `path` is always an absolute path of this server. Its cookies go along: the
    // waiting room knows this browser by them (authentication is the bearer token, never a cookie).
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
    });
  } catch {
    throw networkError();
  }
  if (response.ok) return response;
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    // Not JSON (a proxy's page): described by its status alone.
  }
  const problem = problemOf(response.status, parsed);
  if (problem.code === 'AUTH_REQUIRED' && options.token) sessionEnded();
  // The waiting room (DESIGN §8): the node is full for the browser journey. Its screen takes over (it
  // takes a ticket and shows the place in the queue); the screen that asked sees the refusal too.
  if (problem.code === waitingRoomCode) waitingRoomEntered(problem);
  throw problem;
}

/** A JSON call; `null` for 204. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options, 'application/json');
  if (response.status === 204) return null as T;
  try {
    return (await response.json()) as T;
  } catch {
    throw networkError();
  }
}

/** A file download: the bytes and the name the server suggests. */
export async function apiFile(
  path: string,
  token: string,
  fallbackName: string,
): Promise<{ blob: Blob; fileName: string }> {
  const response = await send(path, { token }, '*/*');
  const disposition = response.headers.get('content-disposition') ?? '';
  const named = /filename="([^"]+)"/.exec(disposition)?.[1];
  try {
    return { blob: await response.blob(), fileName: named ?? fallbackName };
  } catch {
    throw networkError();
  }
}

/** Hands `blob` to the browser as a download named `fileName`; nothing leaves the device. */
export function saveFile(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.rel = 'noopener';
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // The download has started from the object URL; a minute is ample before letting it go.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A fresh Idempotency-Key from the browser's CSPRNG: 128 bits, hex. */
export function newIdempotencyKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

// The API's shapes, as far as the app reads them (see /openapi.json).
export interface Me {
  readonly id: string;
  readonly phone: string;
  readonly roles: readonly string[];
  readonly quota: { readonly available: number; readonly pending: number };
}

export interface Order {
  readonly id: string;
  readonly quantity: number;
  readonly amount: number;
  readonly currency: string;
  readonly status: 'awaiting_payment' | 'paid' | 'expired' | 'partially_refunded' | 'refunded' | string;
  readonly channel: string;
  readonly unit_price: number;
  readonly fee_per_unit: number;
  readonly refunded_quantity: number;
  readonly created_at: string;
  readonly paid_at: string | null;
  readonly payment: {
    readonly provider: string;
    readonly redirect_url: string | null;
    readonly expires_at: string;
  };
}

export interface Refund {
  readonly id: string;
  readonly order_id: string;
  readonly quantity: number;
  readonly amount: number;
  readonly status: 'requested' | 'succeeded' | 'failed' | string;
}

export interface StampView {
  readonly id: string;
  readonly serial: string;
  readonly status: 'pending' | 'stamped' | 'refunded';
  readonly reason_code: string | null;
  readonly file_name: string;
  readonly doc_type: string;
  readonly created_at: string;
  readonly stamped_at: string | null;
  readonly page: number | null;
  readonly downloadable: boolean;
  readonly download_url: string | null;
  readonly expires_at: string | null;
}

export interface DocType {
  readonly code: string;
  readonly id: string;
  readonly en: string;
}

export interface DevOutbox {
  readonly mode: 'development';
  readonly channel: 'file' | 'http';
  readonly outbox: string | null;
  readonly phone: string | null;
  readonly code: string | null;
  readonly at: string | null;
}
