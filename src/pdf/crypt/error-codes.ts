/** Error codes of PDF encryption; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../../errors.js';

export const pdfCryptErrorDefinitions = {
  PDF_PASSWORD_REQUIRED: {
    status: 422,
    id: 'Dokumen PDF ini dilindungi kata sandi. Kirim ulang dengan kata sandi pembuka dokumen (user password), atau buka proteksinya lalu unggah lagi.',
    en: 'This PDF is password-protected. Send it again with its document-open (user) password, or remove the protection and upload it again.',
  },
  PDF_PASSWORD_INCORRECT: {
    status: 422,
    id: 'Kata sandi yang diberikan tidak cocok dengan dokumen PDF ini, baik sebagai kata sandi pembuka maupun kata sandi pemilik. Periksa kata sandinya (huruf besar/kecil berpengaruh) lalu coba lagi.',
    en: 'The password given matches neither the document-open (user) password nor the owner password of this PDF. Check the password (it is case-sensitive) and try again.',
  },
  PDF_ENCRYPTION_UNSUPPORTED: {
    status: 422,
    id: 'Enkripsi PDF ini tidak didukung ({feature}). Simpan ulang dokumen dengan enkripsi standar berbasis kata sandi (AES-128 atau AES-256), atau tanpa enkripsi, lalu unggah lagi.',
    en: 'The encryption of this PDF is not supported ({feature}). Save the document again with standard password encryption (AES-128 or AES-256), or without encryption, and upload it again.',
  },
  PDF_ENCRYPTION_DAMAGED: {
    status: 422,
    id: 'Data enkripsi PDF ini rusak ({problem}). Buat ulang atau simpan ulang PDF dari aplikasi asalnya, lalu unggah lagi.',
    en: 'The encryption data of this PDF is damaged ({problem}). Export or save the PDF again from the application that made it, and upload it again.',
  },
} as const satisfies Record<string, ErrorDefinition>;
