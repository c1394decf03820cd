/** Error codes of connections/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const connectionsErrorDefinitions = {
  BODY_TOO_LARGE: {
    status: 413,
    id: 'Isi permintaan terlalu besar: paling besar {limitBytes} byte.',
    en: 'The request body is too large: at most {limitBytes} bytes.',
  },
  UPLOADS_IN_PROGRESS: {
    status: 429,
    id: 'Sudah ada {limit} unggahan yang sedang berjalan. Tunggu salah satunya selesai, lalu coba lagi dalam {retryAfterSeconds} detik.',
    en: '{limit} uploads are already in progress. Wait for one to finish, then try again in {retryAfterSeconds} seconds.',
  },
} as const satisfies Record<string, ErrorDefinition>;
