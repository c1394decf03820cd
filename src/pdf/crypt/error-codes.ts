/** Error codes of PDF encryption; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../../errors.js';

export const pdfCryptErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
