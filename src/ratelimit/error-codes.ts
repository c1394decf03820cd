/** Error codes of ratelimit/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const ratelimitErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
