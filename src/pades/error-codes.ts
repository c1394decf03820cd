/** Error codes of the pades area (PAdES signatures, signer keys and certificates); merged into src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const padesErrorDefinitions = {
  PADES_CERTIFICATE_INVALID: {
    status: 500,
    id: 'Sertifikat penanda tangan tidak dapat dibaca: {problem}. Ganti sertifikat di direktori PKI lalu jalankan ulang.',
    en: 'The signer certificate cannot be read: {problem}. Replace the certificate in the PKI directory and start again.',
  },
  PADES_SIGNATURE_INVALID: {
    status: 500,
    id: 'Penanda tangan mengembalikan tanda tangan yang tidak valid: {problem}. Periksa kunci penanda tangan.',
    en: 'The signer returned an invalid signature: {problem}. Check the signing key.',
  },
  KEY_FILE_PERMISSIONS: {
    status: 500,
    id: 'Berkas kunci {path} dapat diakses oleh grup atau pengguna lain (mode {mode}). Jalankan `chmod 600 {path}` lalu jalankan ulang.',
    en: 'The key file {path} can be accessed by group or others (mode {mode}). Run `chmod 600 {path}` and start again.',
  },
  KEY_FILE_INVALID: {
    status: 500,
    id: 'Berkas PKI {path} tidak dapat dipakai: {problem}. Perbaiki atau hapus direktori PKI pengembangan agar dibuat ulang.',
    en: 'The PKI file {path} cannot be used: {problem}. Fix it, or delete the development PKI directory so it is generated again.',
  },
} as const satisfies Record<string, ErrorDefinition>;
