/** Error codes of the pades area; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const padesErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
