/** Error codes of stamping; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const stampingErrorDefinitions = {
  PDF_SIGNING_NOT_PERMITTED: {
    status: 422,
    id: 'Pemilik dokumen ini melarang penambahan tanda tangan atau anotasi. Minta dokumen yang mengizinkan penandatanganan, atau berikan kata sandi pemilik (owner password).',
    en: 'The owner of this document forbids adding signatures or annotations. Ask for a copy that allows signing, or give the owner password.',
  },
} as const satisfies Record<string, ErrorDefinition>;
