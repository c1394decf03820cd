/**
 * The one error registry (STYLE habit 1). Every refusal bubuh makes carries a stable code from this
 * table, an HTTP status, and a message in Indonesian and English that tells a person what to do.
 * `docs/errors.md` is generated from this table and a test keeps the two identical.
 */

import { accountErrorDefinitions } from './accounts/error-codes.js';
import { commerceErrorDefinitions } from './commerce/error-codes.js';
import { padesErrorDefinitions } from './pades/error-codes.js';
import { pdfCryptErrorDefinitions } from './pdf/crypt/error-codes.js';
import { pdfErrorDefinitions } from './pdf/error-codes.js';
import { pkiErrorDefinitions } from './pki/error-codes.js';
import { pkiLifecycleErrorDefinitions } from './pki/revocation-error-codes.js';
import { sealErrorDefinitions } from './seal/error-codes.js';
import { serviceErrorDefinitions } from './services/error-codes.js';
import { stampServiceErrorDefinitions } from './stamps/error-codes.js';
import { stampingErrorDefinitions } from './stamping/error-codes.js';
import { tsaErrorDefinitions } from './tsa/error-codes.js';
import { webErrorDefinitions } from './web/error-codes.js';
import { clusterErrorDefinitions } from './cluster/error-codes.js';
import { connectionsErrorDefinitions } from './connections/error-codes.js';
import { overloadErrorDefinitions } from './overload/error-codes.js';
import { ratelimitErrorDefinitions } from './ratelimit/error-codes.js';
import { waitingRoomErrorDefinitions } from './waiting-room/error-codes.js';

export interface ErrorDefinition {
  readonly status: number;
  /** Indonesian message; `{name}` placeholders are filled from the error's details. */
  readonly id: string;
  /** English message; same placeholders. */
  readonly en: string;
}

const coreDefinitions = {
  CONFIG_INVALID: {
    status: 500,
    id: 'Konfigurasi tidak valid: {variable} — {problem}. Perbaiki nilainya lalu jalankan ulang.',
    en: 'Invalid configuration: {variable} — {problem}. Fix the value and start again.',
  },
  CONFIG_FILE_UNREADABLE: {
    status: 500,
    id: 'Berkas konfigurasi {path} tidak dapat dibaca: {problem}.',
    en: 'The configuration file {path} cannot be read: {problem}.',
  },
  STORAGE_UNAVAILABLE: {
    status: 503,
    id: 'Basis data sedang tidak dapat dihubungi. Coba lagi sebentar lagi.',
    en: 'The database cannot be reached right now. Try again shortly.',
  },
  LEDGER_OVERLOADED: {
    status: 503,
    id: 'Buku besar sedang penuh antrean. Coba lagi dalam {retryAfterSeconds} detik.',
    en: 'The ledger queue is full. Try again in {retryAfterSeconds} seconds.',
  },
  LEDGER_CLOSED: {
    status: 503,
    id: 'Layanan sedang berhenti dan tidak menerima transaksi baru. Coba lagi di node lain atau sebentar lagi.',
    en: 'The service is shutting down and accepts no new transactions. Retry on another node or shortly.',
  },
  LEDGER_REQUEST_INVALID: {
    status: 400,
    id: 'Permintaan buku besar tidak valid: {problem}.',
    en: 'Invalid ledger request: {problem}.',
  },
  NOT_FOUND: {
    status: 404,
    id: 'Alamat {path} tidak ada. Periksa kembali alamatnya.',
    en: 'There is nothing at {path}. Check the address.',
  },
  NOT_READY: {
    status: 503,
    id: 'Layanan belum siap: {problem}. Coba lagi sebentar lagi.',
    en: 'The service is not ready: {problem}. Try again shortly.',
  },
  REQUEST_INVALID: {
    status: 400,
    id: 'Permintaan tidak valid: {problem}.',
    en: 'The request is not valid: {problem}.',
  },
  INTERNAL: {
    status: 500,
    id: 'Terjadi kesalahan di sisi kami (kode referensi {requestId}). Tidak ada yang hilang; coba lagi.',
    en: 'Something went wrong on our side (reference {requestId}). Nothing was lost; try again.',
  },
} as const satisfies Record<string, ErrorDefinition>;

const definitions = {
  ...coreDefinitions,
  ...pdfErrorDefinitions,
  ...pdfCryptErrorDefinitions,
  ...sealErrorDefinitions,
  ...padesErrorDefinitions,
  ...stampingErrorDefinitions,
  ...tsaErrorDefinitions,
  ...serviceErrorDefinitions,
  ...commerceErrorDefinitions,
  ...stampServiceErrorDefinitions,
  ...accountErrorDefinitions,
  ...pkiErrorDefinitions,
  ...pkiLifecycleErrorDefinitions,
  ...webErrorDefinitions,
  ...overloadErrorDefinitions,
  ...ratelimitErrorDefinitions,
  ...connectionsErrorDefinitions,
  ...waitingRoomErrorDefinitions,
  ...clusterErrorDefinitions,
} as const;

export type ErrorCode = keyof typeof definitions;

export const errorRegistry: Readonly<Record<ErrorCode, ErrorDefinition>> = Object.freeze(definitions);

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

function fill(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = details[name];
    return value === undefined ? whole : String(value);
  });
}

/** An operating error: bubuh answers it clearly and keeps running. */
export class BubuhError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;
  readonly messageId: string;
  /** Seconds a client should wait before retrying, for 429/503 answers. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, details: ErrorDetails = {}, options: { cause?: unknown } = {}) {
    const definition = errorRegistry[code];
    super(fill(definition.en, details), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BubuhError';
    this.code = code;
    this.status = definition.status;
    this.details = details;
    this.messageId = fill(definition.id, details);
    const retry = details['retryAfterSeconds'];
    this.retryAfterSeconds = typeof retry === 'number' ? retry : undefined;
  }

  /** The JSON body every HTTP refusal uses. */
  toBody(): { error: { code: ErrorCode; message: string; message_id: string; details: ErrorDetails } } {
    return {
      error: { code: this.code, message: this.message, message_id: this.messageId, details: this.details },
    };
  }
}

export function isBubuhError(value: unknown): value is BubuhError {
  return value instanceof BubuhError;
}

/** The `docs/errors.md` page, generated from the registry. */
export function renderErrorsMarkdown(): string {
  const lines = [
    '# Error codes',
    '',
    'Every refusal from bubuh (HTTP body `{"error": {"code", "message", "message_id", "details"}}`, or',
    '`CODE: message` on the command line) carries one of these stable codes. Messages are given in English',
    'and Indonesian; `{name}` is filled from `details`. This page is generated from `src/errors.ts`',
    '(`bubuh docs errors`); a test keeps the two identical.',
    '',
    '| code | HTTP | English | Bahasa Indonesia |',
    '|---|---|---|---|',
  ];
  for (const [code, definition] of Object.entries(errorRegistry)) {
    lines.push(`| \`${code}\` | ${definition.status} | ${definition.en} | ${definition.id} |`);
  }
  return `${lines.join('\n')}\n`;
}
