/** Error codes of connections/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const connectionsErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
