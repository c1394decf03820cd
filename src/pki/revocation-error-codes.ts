/**
 * Error codes of the PKI lifecycle (`bubuh pki …`, revocations, the CRL) and the public serial record;
 * merged into the one registry in src/errors.ts.
 */
import type { ErrorDefinition } from '../errors.js';

export const pkiLifecycleErrorDefinitions = {
  SERIAL_MALFORMED: {
    status: 400,
    id: '"{serial}" bukan nomor seri e-meterai yang valid ({problem}). Periksa kembali 22 karakter pada segel.',
    en: '"{serial}" is not a valid e-meterai serial ({problem}). Check the 22 characters on the seal.',
  },
  SERIAL_UNKNOWN: {
    status: 404,
    id: 'Tidak ada e-meterai bernomor seri {serial} yang diterbitkan di sini. Periksa nomornya; e-meterai tanpa catatan tidak sah.',
    en: 'No e-meterai with serial {serial} was issued here. Check the serial; an e-meterai without a record is not genuine.',
  },
  PKI_EXISTS: {
    status: 409,
    id: 'Direktori {path} sudah berisi PKI; `bubuh pki init` tidak pernah menimpa kunci. Lihat dengan `bubuh pki show`, atau pilih direktori data lain.',
    en: 'The directory {path} already holds a PKI; `bubuh pki init` never overwrites keys. Look at it with `bubuh pki show`, or choose another data directory.',
  },
  PKI_MISSING: {
    status: 404,
    id: 'Belum ada PKI di {path}. Jalankan `bubuh pki init` terlebih dahulu.',
    en: 'There is no PKI in {path}. Run `bubuh pki init` first.',
  },
  PKI_DEVELOPMENT_ONLY: {
    status: 400,
    id: '`bubuh pki init` hanya membuat hierarki pengembangan (BUKAN UNTUK PRODUKSI) dan menolak berjalan dengan BUBUH_MODE=production. Pasang hierarki produksi di {path} dengan `bubuh pki import`.',
    en: '`bubuh pki init` only makes a development hierarchy (NOT FOR PRODUCTION) and refuses to run with BUBUH_MODE=production. Install the production hierarchy in {path} with `bubuh pki import`.',
  },
  REVOCATION_REASON_UNKNOWN: {
    status: 400,
    id: 'Alasan pencabutan "{reason}" tidak dikenal. Gunakan salah satu dari: {allowed}.',
    en: 'Unknown revocation reason "{reason}". Use one of: {allowed}.',
  },
  REVOCATION_SERIAL_UNKNOWN: {
    status: 404,
    id: '"{serial}" bukan nomor seri e-meterai di registri dan bukan nomor seri sertifikat yang diterbitkan CA penerbit ini. Periksa nomornya (`bubuh pki show` menampilkan nomor seri sertifikat).',
    en: '"{serial}" is neither an e-meterai serial in the registry nor the serial of a certificate this issuing CA issued. Check it (`bubuh pki show` lists certificate serials).',
  },
  REVOCATION_EXISTS: {
    status: 409,
    id: '{kind} {serial} sudah dicabut pada {revokedAt} ({reason}); pencabutan tidak dapat diulang atau dibatalkan.',
    en: 'The {kind} {serial} was already revoked at {revokedAt} ({reason}); a revocation is neither repeated nor undone.',
  },
  PKI_EXPORT_FAILED: {
    status: 400,
    id: 'Tidak dapat menulis ke {path}: {problem}.',
    en: 'Cannot write to {path}: {problem}.',
  },
} as const satisfies Record<string, ErrorDefinition>;
