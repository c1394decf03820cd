/** Error codes of the browser front end's server side; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const webErrorDefinitions = {
  WEB_NOT_BUILT: {
    status: 503,
    id: 'Halaman web belum tersedia di server ini karena belum dibangun. Pengelola server perlu menjalankan `npm run build` lalu menjalankan ulang layanan.',
    en: 'The web pages are not available on this server because they were not built. The server operator needs to run `npm run build` and restart the service.',
  },
} as const satisfies Record<string, ErrorDefinition>;
