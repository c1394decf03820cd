/** Sign-in, sessions and roles: what other areas import. */
export { authenticate, accountStoreOf, apiKeyStoreOf, bearerToken } from './authenticate.js';
export { apiKeyIdOf, isApiKeyRequest, parseApiKey } from './api-keys.js';
export type { Principal, Role } from './principal.js';
export { ROLES } from './principal.js';
export { requireRole } from './roles.js';
