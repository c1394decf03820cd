/** Error codes of the pdf area; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const pdfErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
