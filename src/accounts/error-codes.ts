/**
 * Error codes of sign-in, sessions, roles (accounts/) and of idempotency keys (http/idempotency.ts);
 * merged into the one registry in src/errors.ts.
 */
import type { ErrorDefinition } from '../errors.js';

export const accountErrorDefinitions = {
  AUTH_REQUIRED: {
    status: 401,
    id: 'Anda perlu masuk terlebih dahulu. Masuk dengan kode WhatsApp lalu kirim token sebagai "Authorization: Bearer …".',
    en: 'Sign in first. Sign in with a WhatsApp code and send the token as "Authorization: Bearer …".',
  },
  FORBIDDEN: {
    status: 403,
    id: 'Akun Anda tidak memiliki peran {role} yang diperlukan untuk tindakan ini.',
    en: 'Your account does not have the {role} role this action needs.',
  },
  PHONE_INVALID: {
    status: 400,
    id: 'Nomor telepon "{phone}" tidak valid. Tulis nomor WhatsApp Anda seperti 081234567890 atau +6281234567890.',
    en: 'The phone number "{phone}" is not valid. Write your WhatsApp number like 081234567890 or +6281234567890.',
  },
  OTP_SEND_LIMITED: {
    status: 429,
    id: 'Terlalu banyak permintaan kode. Coba lagi dalam {retryAfterSeconds} detik.',
    en: 'Too many code requests. Try again in {retryAfterSeconds} seconds.',
  },
  OTP_INVALID: {
    status: 401,
    id: 'Kode salah. Sisa percobaan: {attemptsLeft}.',
    en: 'Wrong code. Attempts left: {attemptsLeft}.',
  },
  OTP_ATTEMPTS_EXHAUSTED: {
    status: 401,
    id: 'Kode ini sudah terlalu sering salah dimasukkan dan tidak berlaku lagi. Minta kode baru.',
    en: 'This code was entered wrongly too many times and no longer works. Request a new code.',
  },
  OTP_EXPIRED: {
    status: 401,
    id: 'Tidak ada kode yang berlaku untuk nomor ini (kode berlaku 5 menit, dan hanya kode terbaru). Minta kode baru.',
    en: 'There is no valid code for this number (codes last 5 minutes, and only the newest one counts). Request a new code.',
  },
  OTP_USED: {
    status: 401,
    id: 'Kode ini sudah dipakai. Minta kode baru untuk masuk lagi.',
    en: 'This code was already used. Request a new code to sign in again.',
  },
  SESSION_NOT_FOUND: {
    status: 404,
    id: 'Sesi {sessionId} tidak ditemukan di akun Anda.',
    en: 'Session {sessionId} is not one of your sessions.',
  },
  ACCOUNT_NOT_FOUND: {
    status: 404,
    id: 'Tidak ada akun dengan nomor {phone}. Akun dibuat saat pemiliknya pertama kali masuk.',
    en: 'There is no account with the number {phone}. An account is created when its owner first signs in.',
  },
  API_KEY_NOT_FOUND: {
    status: 404,
    id: 'Tidak ada kunci API aktif dengan id {id}. Periksa id-nya (bagian setelah "bbh_"); kunci yang sudah dicabut tidak dapat dicabut lagi.',
    en: 'There is no active API key with id {id}. Check the id (the part after "bbh_"); a key already revoked cannot be revoked again.',
  },
  ROLE_INVALID: {
    status: 400,
    id: 'Peran "{role}" tidak dikenal. Peran yang ada: {allowed}.',
    en: 'Unknown role "{role}". Roles: {allowed}.',
  },
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    id: 'Permintaan ini memerlukan header Idempotency-Key (1–255 karakter yang dapat dicetak) agar aman diulang.',
    en: 'This request needs an Idempotency-Key header (1–255 printable characters) so it can be retried safely.',
  },
  IDEMPOTENCY_KEY_INVALID: {
    status: 400,
    id: 'Idempotency-Key tidak valid: {problem}. Gunakan 1–255 karakter ASCII yang dapat dicetak, misalnya UUID.',
    en: 'Invalid Idempotency-Key: {problem}. Use 1–255 printable ASCII characters, such as a UUID.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    id: 'Idempotency-Key ini sudah dipakai untuk permintaan lain dengan parameter berbeda. Gunakan kunci baru untuk permintaan baru.',
    en: 'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    id: 'Permintaan dengan Idempotency-Key yang sama masih diproses. Coba lagi dalam {retryAfterSeconds} detik.',
    en: 'A request with the same Idempotency-Key is still being processed. Try again in {retryAfterSeconds} seconds.',
  },
} as const satisfies Record<string, ErrorDefinition>;
