/** Error codes of waiting-room/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

export const waitingRoomErrorDefinitions = {} as const satisfies Record<string, ErrorDefinition>;
