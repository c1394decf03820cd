/** Error codes of overload/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const overloadErrorDefinitions = {
  OVERLOADED: {
    status: 503,
    id: 'Layanan sedang sangat sibuk dan tidak dapat menerima permintaan ini sekarang. Coba lagi dalam {retryAfterSeconds} detik.',
    en: 'The service is very busy and cannot take this request now. Try again in {retryAfterSeconds} seconds.',
  },
} as const satisfies Record<string, ErrorDefinition>;
