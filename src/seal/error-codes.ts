/** Error codes of the seal area; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const sealErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
