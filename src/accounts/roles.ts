/** Roles as stored (a comma-separated sorted list) and checked. */
import { BubuhError } from '../errors.js';
import { type Principal, type Role, ROLES } from './principal.js';

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Parses a stored roles column; unknown names (from a newer version) are ignored. */
export function parseRoles(text: string): Role[] {
  return text.split(',').filter(isRole);
}

export function formatRoles(roles: readonly Role[]): string {
  return [...new Set(roles)].sort().join(',');
}

/** Refuses with FORBIDDEN unless the principal holds `role`. */
export function requireRole(principal: Principal, role: Role): void {
  if (!principal.roles.includes(role)) throw new BubuhError('FORBIDDEN', { role });
}

/** `value` as a Role, or ROLE_INVALID. */
export function roleFrom(value: string): Role {
  if (!isRole(value)) throw new BubuhError('ROLE_INVALID', { role: value, allowed: ROLES.join(', ') });
  return value;
}
