/** Error codes of waiting-room/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const waitingRoomErrorDefinitions = {
  WAITING_ROOM: {
    status: 429,
    id: 'Antrean sedang berjalan: layanan sedang ramai. Ambil nomor antrean di {join}, lalu lanjutkan setelah giliran Anda tiba (periksa lagi dalam {retryAfterSeconds} detik).',
    en: 'The waiting room is on: the service is busy. Take a place at {join} and go on when your turn comes (check again in {retryAfterSeconds} seconds).',
  },
  WAITING_ROOM_NO_TICKET: {
    status: 404,
    id: 'Peramban ini belum punya nomor antrean (atau sudah kedaluwarsa). Ambil nomor dengan POST {join}.',
    en: 'This browser has no waiting-room ticket (or it has expired). Take one with POST {join}.',
  },
  WAITING_ROOM_TICKET_INVALID: {
    status: 403,
    id: 'Tiket antrean tidak sah atau bukan milik peramban ini. Ambil nomor baru dengan POST {join}.',
    en: 'The waiting-room ticket is not valid or belongs to another browser. Take a new one with POST {join}.',
  },
} as const satisfies Record<string, ErrorDefinition>;
