/** Error codes of overload/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const overloadErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
