/** Error codes of ratelimit/; merged into the one registry in src/errors.ts. */
import type { ErrorDefinition } from '../errors.js';

// Both messages name the budget in both languages (the registry requires the same placeholders in each).
export const ratelimitErrorDefinitions = {
  RATE_LIMITED: {
    status: 429,
    id: 'Terlalu banyak permintaan untuk {scopeNameId} ini ({scopeName}). Coba lagi dalam {retryAfterSeconds} detik.',
    en: 'Too many requests for this {scopeName} ({scopeNameId}). Try again in {retryAfterSeconds} seconds.',
  },
} as const satisfies Record<string, ErrorDefinition>;
