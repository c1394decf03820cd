/**
 * What the web app needs from the waiting room, in one place: the JSON of both endpoints, the cookie
 * and header names, and the refusal code of the gate. Nothing here imports the server.
 */

/** `waiting`: in the queue; `admitted`: may sign in and order until `admittedUntil`; `expired`: the admission ran out. */
export type WaitingRoomState = 'waiting' | 'admitted' | 'expired';

/** Body of `POST /v1/waiting-room/tickets` and `GET /v1/waiting-room/tickets/current`. */
export interface WaitingRoomStatus {
  readonly state: WaitingRoomState;
  /** 1 for the next to be admitted; 0 when admitted or expired. Before the opening it is provisional. */
  readonly position: number;
  /** Whole seconds until admission, from the measured admission rate; 0 when admitted or expired. */
  readonly estimatedWaitSeconds: number;
  /** ISO time the admission ends; null while waiting, and when the room is off. */
  readonly admittedUntil: string | null;
  /** Ask again after this many seconds (also the `Retry-After` of the gate's 429). */
  readonly pollAfterSeconds: number;
  /** ISO opening time while the room has not opened yet; null otherwise. */
  readonly opensAt: string | null;
  /** False when the room is off (every browser is admitted, no ticket is needed). */
  readonly roomOn: boolean;
}

/** `POST /v1/waiting-room/tickets` also returns the ticket (the same value is set as a cookie). */
export interface WaitingRoomTicketResponse extends WaitingRoomStatus {
  /** Signed and bound to this browser's client cookie; null when the room is off. */
  readonly ticket: string | null;
}

export const waitingRoomPaths = {
  join: '/v1/waiting-room/tickets',
  current: '/v1/waiting-room/tickets/current',
} as const;

/** HttpOnly cookie with the browser's random client id (the ticket is valid only with it). */
export const clientCookieName = 'bubuh_wr_client';
/** Cookie with the signed ticket. */
export const ticketCookieName = 'bubuh_wr_ticket';
/** A program may send the ticket in this header instead of the cookie (the client cookie is still needed). */
export const ticketHeaderName = 'x-waiting-room-ticket';

/** The code of the gate's 429 on sign-in and ordering when the browser has not been admitted. */
export const waitingRoomErrorCode = 'WAITING_ROOM';
