/** Error codes of the use cases (services/); merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const serviceErrorDefinitions = {
  QUOTA_INSUFFICIENT: {
    status: 402,
    id: 'Kuota e-meterai Anda tidak cukup ({available} tersedia). Beli kuota terlebih dahulu.',
    en: 'Not enough e-meterai quota ({available} available). Buy quota first.',
  },
  STAMP_RESERVATION_EXPIRED: {
    status: 503,
    id: 'Pembubuhan memakan waktu terlalu lama dan dibatalkan; kuota Anda sudah dikembalikan otomatis. Coba lagi.',
    en: 'Stamping took too long and was cancelled; your quota was returned automatically. Try again.',
  },
  PKI_NOT_CONFIGURED: {
    status: 500,
    id: 'Kunci penandatanganan produksi belum dipasang. Pasang kunci produksi, atau jalankan dengan BUBUH_MODE=development untuk kunci pengembangan.',
    en: 'Production signing keys are not installed. Install them, or run with BUBUH_MODE=development for development keys.',
  },
  INPUT_FILE_UNREADABLE: {
    status: 400,
    id: 'Berkas {path} tidak dapat dibaca: {problem}.',
    en: 'The file {path} cannot be read: {problem}.',
  },
} as const satisfies Record<string, ErrorDefinition>;
