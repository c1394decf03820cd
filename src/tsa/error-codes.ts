/** Error codes of the time-stamping area (RFC 3161, PAdES B-T); merged into src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const tsaErrorDefinitions = {
  TSA_UNAVAILABLE: {
    status: 503,
    id: 'Otoritas cap waktu (TSA) {url} tidak dapat dihubungi: {problem}. Meterai tidak dibubuhkan dan kuota Anda sudah dikembalikan; coba lagi sebentar lagi.',
    en: 'The time-stamping authority (TSA) {url} cannot be reached: {problem}. No stamp was made and your quota was returned; try again shortly.',
  },
  TSA_REJECTED: {
    status: 502,
    id: 'Otoritas cap waktu (TSA) {url} menolak permintaan (status {status}): {problem}. Meterai tidak dibubuhkan dan kuota Anda sudah dikembalikan; periksa pengaturan BUBUH_TSA_URL.',
    en: 'The time-stamping authority (TSA) {url} refused the request (status {status}): {problem}. No stamp was made and your quota was returned; check the BUBUH_TSA_URL setting.',
  },
  TSA_RESPONSE_INVALID: {
    status: 502,
    id: 'Jawaban otoritas cap waktu (TSA) {url} tidak dapat dipakai: {problem}. Meterai tidak dibubuhkan dan kuota Anda sudah dikembalikan; periksa pengaturan BUBUH_TSA_URL.',
    en: 'The answer of the time-stamping authority (TSA) {url} cannot be used: {problem}. No stamp was made and your quota was returned; check the BUBUH_TSA_URL setting.',
  },
  TSA_TOKEN_TOO_LARGE: {
    status: 502,
    id: 'Token cap waktu membuat tanda tangan {bytes} bita, melebihi ruang {reserved} bita yang disediakan. Meterai tidak dibubuhkan dan kuota Anda sudah dikembalikan; pakai TSA dengan token lebih kecil.',
    en: 'The time-stamp token makes the signature {bytes} bytes, more than the {reserved} bytes reserved. No stamp was made and your quota was returned; use a TSA whose tokens are smaller.',
  },
} as const satisfies Record<string, ErrorDefinition>;
