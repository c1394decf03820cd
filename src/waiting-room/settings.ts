/** Settings of waiting-room/; merged into the one configuration table in src/config.ts. */
import type { Setting } from '../config.js';

export interface WaitingRoomConfig {
  /** Sessions admitted at once (each may sign in, order and stamp); 0 turns the room off. */
  readonly waitingRoomCapacity: number;
  /** How long an admission lasts: the time to finish buying and stamping. */
  readonly waitingRoomAdmittedMinutes: number;
  /** ISO time of the opening; visitors who come earlier are put in random order at that moment. */
  readonly waitingRoomOpensAt: string | undefined;
  /** Key of the tickets' HMAC; the same on every node (development generates one in the data dir). */
  readonly waitingRoomSecret: string | undefined;
  /** A waiting visitor who has not polled for this long loses the place. */
  readonly waitingRoomAbandonSeconds: number;
  /** The sliding window over which the admission rate (and so the estimated wait) is measured. */
  readonly waitingRoomRateWindowSeconds: number;
}

export const waitingRoomSettings: readonly Setting[] = [
  {
    key: 'waitingRoomCapacity',
    variable: 'BUBUH_WAITING_ROOM_CAPACITY',
    kind: { type: 'integer', min: 0, max: 10_000_000 },
    fallback: 0,
    help: 'browser sessions admitted at once to sign in, order and stamp; more wait in a FIFO room; 0 turns the room off',
  },
  {
    key: 'waitingRoomAdmittedMinutes',
    variable: 'BUBUH_WAITING_ROOM_ADMITTED_MINUTES',
    kind: { type: 'integer', min: 1, max: 1440 },
    fallback: 20,
    help: 'how long an admission from the waiting room lasts (time to finish buying and stamping)',
  },
  {
    key: 'waitingRoomOpensAt',
    variable: 'BUBUH_WAITING_ROOM_OPENS_AT',
    kind: {
      type: 'string',
      pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/,
      allowed: 'an ISO time with its zone, e.g. 2026-12-01T08:00:00+07:00',
    },
    fallback: undefined,
    help: 'opening time of the waiting room: earlier visitors wait and are put in random order at that moment, later ones after them in arrival order',
  },
  {
    key: 'waitingRoomSecret',
    variable: 'BUBUH_WAITING_ROOM_SECRET',
    kind: { type: 'string', pattern: /^\S{32,256}$/, allowed: '32 to 256 characters without spaces' },
    fallback: undefined,
    secret: true,
    help: 'key that signs waiting-room tickets, the same on every node (required in production when the room is on; development keeps one in <data>/waiting-room.key)',
  },
  {
    key: 'waitingRoomAbandonSeconds',
    variable: 'BUBUH_WAITING_ROOM_ABANDON_S',
    kind: { type: 'integer', min: 60, max: 86_400 },
    fallback: 120,
    help: 'a waiting visitor whose page has not asked for its position for this long loses the place',
  },
  {
    key: 'waitingRoomRateWindowSeconds',
    variable: 'BUBUH_WAITING_ROOM_RATE_WINDOW_S',
    kind: { type: 'integer', min: 10, max: 3600 },
    fallback: 120,
    help: 'the sliding window over which admissions per second are measured for the estimated wait',
  },
];
