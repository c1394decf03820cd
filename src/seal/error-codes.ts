/** Error codes of the seal area; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const sealErrorDefinitions = {
  SEAL_SIZE_INVALID: {
    status: 400,
    id: 'Ukuran segel {sizePt} pt tidak didukung. Pilih ukuran dari {minimum} sampai {maximum} pt.',
    en: 'A seal of {sizePt} pt is not supported. Choose a size from {minimum} to {maximum} pt.',
  },
  SEAL_SERIAL_INVALID: {
    status: 400,
    id: 'Nomor seri {serial} tidak valid: harus 22 huruf kapital/angka dengan karakter cek yang benar.',
    en: 'Serial {serial} is not valid: it must be 22 capital letters or digits with correct check characters.',
  },
  SEAL_URL_INVALID: {
    status: 400,
    id: 'Alamat untuk kode QR segel harus 1 sampai {limit} karakter ASCII tanpa spasi (diterima {length} karakter). Gunakan alamat yang lebih pendek.',
    en: 'The address in the seal QR code must be 1 to {limit} ASCII characters without spaces (got {length}). Use a shorter address.',
  },
} as const satisfies Record<string, ErrorDefinition>;
