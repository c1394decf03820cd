/**
 * The waiting room over HTTP (docs/overload.md, "Waiting room"): the two endpoints a browser uses to
 * take and keep its place, and the gate on the browser journey's costly first steps (sign-in and
 * ordering). Neither endpoint nor the gate touches the database: a poll is one store call (one Lua
 * script in Redis, or memory).
 *
 * The gate is an onRequest hook on POST /v1/auth/otp, POST /v1/auth/verify and POST /v1/orders. While
 * the room is on, such a request passes only with a ticket that verifies against the browser's client
 * cookie and whose visitor is admitted now; otherwise it is refused with 429 WAITING_ROOM and
 * `Retry-After`. Requests carrying an API key (`Authorization: Bearer bbh_…`) skip the room: programs
 * of resellers and institutions are held by their rate limits instead.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isApiKeyRequest } from '../accounts/api-keys.js';
import { BubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import { viewOf, waitingRoomOf, type WaitingRoom } from './room.js';
import type { VisitorStatus } from './store.js';
import { cookieValue, isClientId, newClientId, serializeCookie } from './tickets.js';
import {
  clientCookieName,
  ticketCookieName,
  ticketHeaderName,
  waitingRoomPaths,
  type WaitingRoomStatus,
  type WaitingRoomTicketResponse,
} from './types.js';

/** The routes the gate holds, as `METHOD url`. */
export const gatedRoutes: ReadonlySet<string> = new Set([
  'POST /v1/auth/otp',
  'POST /v1/auth/verify',
  'POST /v1/orders',
]);

/** How long the browser keeps its client and ticket cookies. */
const cookieMaxAgeSeconds = 86_400;

const statusProperties = {
  state: { type: 'string', enum: ['waiting', 'admitted', 'expired'] },
  position: { type: 'integer', description: '1 for the next to be admitted; 0 when admitted or expired' },
  estimatedWaitSeconds: { type: 'integer', description: 'from the measured admissions per second' },
  admittedUntil: { type: ['string', 'null'], format: 'date-time' },
  pollAfterSeconds: {
    type: 'integer',
    description: 'ask GET /v1/waiting-room/tickets/current again after this long',
  },
  opensAt: { type: ['string', 'null'], format: 'date-time' },
  roomOn: { type: 'boolean' },
} as const;
const statusRequired = [
  'state',
  'position',
  'estimatedWaitSeconds',
  'admittedUntil',
  'pollAfterSeconds',
  'opensAt',
  'roomOn',
];
const errorBody = { type: 'object', additionalProperties: true } as const;
const cookieNote = `Identified by the HttpOnly cookie ${clientCookieName}; the ticket (cookie ${ticketCookieName} or header ${ticketHeaderName}) is valid only with it.`;

const roomOffView: WaitingRoomStatus = {
  state: 'admitted',
  position: 0,
  estimatedWaitSeconds: 0,
  admittedUntil: null,
  pollAfterSeconds: 60,
  opensAt: null,
  roomOn: false,
};

function presentedTicket(request: FastifyRequest): string | undefined {
  const header = request.headers[ticketHeaderName];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader ?? cookieValue(request.headers.cookie, ticketCookieName);
}

function clientOf(request: FastifyRequest): string | undefined {
  const value = cookieValue(request.headers.cookie, clientCookieName);
  return isClientId(value) ? value : undefined;
}

function secureCookies(request: FastifyRequest, node: BubuhNode): boolean {
  return request.protocol === 'https' || node.config.publicBaseUrl.startsWith('https://');
}

/**
 * The visitor a request speaks for: its client cookie's, provided any ticket it presents verifies
 * against that cookie. Null without a client cookie; WAITING_ROOM_TICKET_INVALID for a foreign ticket.
 */
function visitorOf(request: FastifyRequest, room: WaitingRoom): { visitor: string; client: string } | null {
  const signer = room.signer!;
  const client = clientOf(request);
  if (!client) return null;
  const ticket = presentedTicket(request);
  if (ticket !== undefined && signer.verify(ticket, client) === null) {
    throw new BubuhError('WAITING_ROOM_TICKET_INVALID', { join: waitingRoomPaths.join });
  }
  return { visitor: signer.visitorOf(client), client };
}

function refuse(status: VisitorStatus | null, view: WaitingRoomStatus | null): never {
  throw new BubuhError('WAITING_ROOM', {
    join: waitingRoomPaths.join,
    current: waitingRoomPaths.current,
    state: view?.state ?? 'none',
    position: status?.state === 'waiting' ? status.position : 0,
    retryAfterSeconds: view?.state === 'waiting' ? view.pollAfterSeconds : 1,
  });
}

export function waitingRoomRoutes(app: FastifyInstance, node: BubuhNode): void {
  const room = waitingRoomOf(node);

  if (room.on) {
    app.addHook('onRequest', async (request) => {
      if (!gatedRoutes.has(`${request.method} ${request.routeOptions.url}`)) return;
      if (isApiKeyRequest(request)) return;
      const client = clientOf(request);
      const ticket = presentedTicket(request);
      const visitor = client && ticket !== undefined ? room.signer!.verify(ticket, client) : null;
      if (visitor === null) refuse(null, null);
      const status = await room.status(visitor);
      if (status.state === 'admitted') return;
      refuse(status, viewOf(status, node.clock(), room.rules));
    });
  }

  const setCookies = (request: FastifyRequest, reply: FastifyReply, client: string, ticket: string): void => {
    const options = { maxAgeSeconds: cookieMaxAgeSeconds, secure: secureCookies(request, node) };
    reply.header('set-cookie', [
      serializeCookie(clientCookieName, client, options),
      serializeCookie(ticketCookieName, ticket, options),
    ]);
  };

  app.post(
    waitingRoomPaths.join,
    {
      schema: {
        summary: 'Take a place in the waiting room, or get the place this browser already has',
        description: `${cookieNote} Sets both cookies. While the room is off the answer is admitted, with no ticket.`,
        tags: ['waiting-room'],
        response: {
          200: {
            type: 'object',
            properties: { ...statusProperties, ticket: { type: ['string', 'null'] } },
            required: [...statusRequired, 'ticket'],
          },
          403: errorBody,
        },
      },
    },
    async (request, reply): Promise<WaitingRoomTicketResponse> => {
      reply.header('cache-control', 'no-store');
      if (!room.on) return { ...roomOffView, ticket: null };
      const client = clientOf(request) ?? newClientId();
      const ticket = presentedTicket(request);
      if (ticket !== undefined && room.signer!.verify(ticket, client) === null) {
        throw new BubuhError('WAITING_ROOM_TICKET_INVALID', { join: waitingRoomPaths.join });
      }
      const status = await room.join(room.signer!.visitorOf(client));
      const now = node.clock();
      // A reload with a good ticket gets that very ticket back.
      const issued = ticket ?? room.signer!.issue(client, now);
      setCookies(request, reply, client, issued);
      return { ...viewOf(status, now, room.rules), ticket: issued };
    },
  );

  app.get(
    waitingRoomPaths.current,
    {
      schema: {
        summary: "This browser's place in the waiting room: position, estimated wait, when to ask again",
        description: `${cookieNote} Cheap: no database. Ask again after pollAfterSeconds; a waiting browser that stops asking loses its place.`,
        tags: ['waiting-room'],
        response: {
          200: { type: 'object', properties: statusProperties, required: statusRequired },
          403: errorBody,
          404: errorBody,
        },
      },
    },
    async (request, reply): Promise<WaitingRoomStatus> => {
      reply.header('cache-control', 'no-store');
      if (!room.on) return roomOffView;
      const identity = visitorOf(request, room);
      if (!identity) throw new BubuhError('WAITING_ROOM_NO_TICKET', { join: waitingRoomPaths.join });
      const status = await room.status(identity.visitor);
      if (status.state === 'absent')
        throw new BubuhError('WAITING_ROOM_NO_TICKET', { join: waitingRoomPaths.join });
      return viewOf(status, node.clock(), room.rules);
    },
  );

  app.delete(
    waitingRoomPaths.current,
    {
      schema: {
        summary: 'Leave the waiting room: give up the place or the admission (frees it for the next)',
        description: cookieNote,
        tags: ['waiting-room'],
        response: { 204: { type: 'null' }, 403: errorBody },
      },
    },
    async (request, reply) => {
      if (room.on) {
        const identity = visitorOf(request, room);
        if (identity) await room.release(identity.visitor);
      }
      reply.status(204);
      return null;
    },
  );
}
