/** Error codes of cluster/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const clusterErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
