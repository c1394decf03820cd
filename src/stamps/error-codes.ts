/** Error codes of the stamping service (stamps/); merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const stampServiceErrorDefinitions = {
  STAMP_FILE_MISSING: {
    status: 400,
    id: 'Tidak ada berkas PDF dalam permintaan. Kirim berkas pada kolom "file".',
    en: 'The request has no PDF. Send the file in the "file" field.',
  },
  STAMP_FILE_TOO_LARGE: {
    status: 413,
    id: 'Berkas terlalu besar: paling besar {limitBytes} byte. Perkecil berkas lalu coba lagi.',
    en: 'The file is too large: at most {limitBytes} bytes. Make it smaller and try again.',
  },
  STAMP_FIELD_INVALID: {
    status: 400,
    id: 'Isian {field} tidak valid: {problem}.',
    en: 'The field {field} is invalid: {problem}.',
  },
  STAMP_DOC_TYPE_UNKNOWN: {
    status: 400,
    id: 'Jenis dokumen "{docType}" tidak dikenal. Pilih salah satu dari GET /v1/doc-types.',
    en: 'Unknown document type "{docType}". Choose one from GET /v1/doc-types.',
  },
  STAMP_BUSY: {
    status: 503,
    id: 'Layanan pembubuhan sedang penuh dan permintaan Anda tidak akan sempat dikerjakan. Kuota Anda tidak terpakai. Coba lagi dalam {retryAfterSeconds} detik.',
    en: 'Stamping is at capacity and your request could not start in time. No quota was used. Try again in {retryAfterSeconds} seconds.',
  },
  STAMP_UPLOADS_LIMITED: {
    status: 429,
    id: 'Anda sudah memiliki {limit} pembubuhan yang sedang berjalan. Tunggu sampai selesai lalu coba lagi.',
    en: 'You already have {limit} stamps in progress. Wait for them to finish and try again.',
  },
  STAMP_NOT_FOUND: {
    status: 404,
    id: 'Pembubuhan {id} tidak ditemukan.',
    en: 'Stamp {id} was not found.',
  },
  STAMP_FILE_GONE: {
    status: 410,
    id: 'Berkas bermeterai sudah dihapus karena melewati masa simpan {retentionHours} jam. Meterai tetap sah; bubuhkan ulang dari berkas asli Anda bila perlu salinan baru.',
    en: 'The stamped file was deleted after the {retentionHours}-hour retention. The e-meterai stays valid; stamp your original again if you need a new copy.',
  },
  STAMP_FILE_UNAVAILABLE: {
    status: 409,
    id: 'Pembubuhan {id} tidak menghasilkan berkas (status: {status}).',
    en: 'Stamp {id} has no file (status: {status}).',
  },
  BATCH_NOT_FOUND: {
    status: 404,
    id: 'Pekerjaan massal {id} tidak ditemukan.',
    en: 'Batch {id} was not found.',
  },
  BATCH_TOO_MANY_FILES: {
    status: 400,
    id: 'Terlalu banyak berkas dalam satu pekerjaan massal: {count} (paling banyak {limit}). Bagi menjadi beberapa pekerjaan.',
    en: 'Too many files in one batch: {count} (at most {limit}). Split it into several batches.',
  },
  BATCH_ARCHIVE_INVALID: {
    status: 400,
    id: 'Arsip ZIP tidak dapat dibaca: {problem}.',
    en: 'The ZIP archive cannot be read: {problem}.',
  },
  BATCH_INTERRUPTED: {
    status: 503,
    id: 'Berkas ini belum sempat dibubuhi karena layanan dimulai ulang; kuota tidak terpakai. Kirim berkas ini lagi.',
    en: 'This file was not reached because the service restarted; no quota was used. Send the file again.',
  },
  BATCH_RESULTS_EMPTY: {
    status: 409,
    id: 'Pekerjaan massal {id} belum atau tidak memiliki berkas bermeterai yang masih tersimpan.',
    en: 'Batch {id} has no stamped files that are still kept (yet).',
  },
} as const satisfies Record<string, ErrorDefinition>;
